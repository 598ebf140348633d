"""Test harness: real terraform against the offline provider mirror and moto.

`terraform` runs the CLI offline (and keeps one provider process that every
command reattaches to); `moto_server` runs the emulator in a child process
with shims for its known gaps; `emulator` points a synthesized stack at that
emulator, deploys it, and hands out boto3 clients bound to it.
"""
