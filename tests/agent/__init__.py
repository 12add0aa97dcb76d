"""Test-side tools for spex: a fake Mesos agent and proto bindings."""
