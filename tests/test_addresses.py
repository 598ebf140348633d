"""stacks/addresses.py and the layer stacks' readable addresses: the scheme, uniqueness, no hashes."""

from __future__ import annotations

import json
import re

import pytest

from stacks.addresses import AddressBook, AddressCollision, address_name, terraform_name


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("jobs-table/table", "jobs_table"),  # a component repeating the end of its parent is dropped
        ("api-service/service", "api_service"),
        ("api-tasks-security-group/security-group", "api_tasks_security_group"),
        ("frontend-bucket/Default", "frontend_bucket"),  # Default is a construct's main resource
        ("network/private-0", "network_private_0"),
        ("http-api/access-logs/log-group", "http_api_access_logs_log_group"),
        ("audit-trail/log-group/log-group", "audit_trail_log_group"),
        ("namespace/namespace", "namespace"),
        ("api-task-role/jobs-table-read-write-data-policy", "api_task_role_jobs_table_read_write_data_policy"),
        ("aws_context/caller", "aws_context_caller"),
        ("0-first", "_0_first"),  # an identifier may not start with a digit
    ],
)
def test_address_name_is_the_path_made_readable(path, name):
    assert address_name(path) == name


def test_terraform_name_replaces_every_other_character():
    assert terraform_name("cross-stack-output-aws_lb.x.default_action[0].arn") == "cross_stack_output_aws_lb_x_default_action_0__arn"


def test_the_book_hands_each_name_to_one_path_only():
    book = AddressBook("qa-data")
    assert book.allocate("a-b/c") == "a_b_c"
    assert book.allocate("a-b/c") == "a_b_c"  # the same element asked twice
    with pytest.raises(AddressCollision) as caught:
        book.allocate("a/b-c")
    message = str(caught.value)
    assert "qa-data" in message and "'a-b/c'" in message and "'a/b-c'" in message and "'a_b_c'" in message


def test_a_collision_in_a_layer_fails_before_synth_with_both_paths(tmp_path):
    """A layer whose two constructs derive one name never reaches cdktf's synth."""
    import constructs_lib  # noqa: F401
    from cdktf import App
    from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
    from constructs import Construct

    from stacks.config import EnvironmentConfig
    from stacks.layer import LayerStack

    class Clashing(LayerStack):
        layer = "clash"

        def __init__(self, scope, config):
            super().__init__(scope, config)
            SqsQueue(Construct(self, "a-b"), "c", name="one")
            SqsQueue(Construct(self, "a"), "b-c", name="two")

    app = App(outdir=str(tmp_path / "out"))
    stack = Clashing(app, EnvironmentConfig(environment="qa", s3_frontend_bucket="qa-frontend-bucket"))
    with pytest.raises(AddressCollision, match=r"'a-b/c' and 'a/b-c' both derive the Terraform name 'a_b_c'"):
        stack.finalize()


def test_no_synthesized_address_has_a_hash(synth_dir):
    """Every resource, data source and output of every layer is named by the scheme, never `<path>_<8 hex>`."""
    hashed = re.compile(r"_[0-9A-F]{8}$")
    names = []
    for path in sorted((synth_dir / "stacks").glob("*/cdk.tf.json")):
        stack = json.loads(path.read_text())
        for kind in ("resource", "data"):
            for blocks in stack.get(kind, {}).values():
                for name, block in blocks.items():
                    names.append(name)
                    assert not hashed.search(name), f"{path.parent.name}: {name}"
                    metadata = block.get("//", {}).get("metadata", {})
                    if "path" in metadata:
                        relative = metadata["path"].split("/", 1)[1]
                        assert name == address_name(relative), (path.parent.name, metadata["path"], name)
        for name in stack.get("output", {}):
            assert re.fullmatch(r"[a-z_][a-z0-9_]*", name), f"{path.parent.name}: output {name}"
    assert len(names) > 300
