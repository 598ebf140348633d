"""Test harness: real terraform against the offline provider mirror and moto.

`terraform` runs the CLI offline; `moto_server` runs the emulator in a child
process with shims for its known gaps; `emulator` points a synthesized stack
at that emulator and deploys it.
"""
