"""vigild in the foreground: start-up checks, clean stop, config reload."""
import os
import signal

import pytest


def test_sigterm_stops_cleanly(agent_factory, dev_config):
    a = agent_factory(["--config", str(dev_config())])
    a.wait_for("running")
    a.signal(signal.SIGTERM)
    assert a.stop() == 0
    a.wait_for("SIGTERM: stopping")
    a.wait_for("stopped cleanly")


def test_sigint_stops_cleanly(agent_factory, dev_config):
    a = agent_factory(["--config", str(dev_config())])
    a.wait_for("running")
    a.signal(signal.SIGINT)
    assert a.stop() == 0
    a.wait_for("SIGINT: stopping")


def test_data_dir_is_created(agent_factory, dev_config, tmp_path):
    a = agent_factory(["--config", str(dev_config())])
    a.wait_for("running")
    assert (tmp_path / "data").is_dir()
    assert a.stop() == 0


def test_sighup_applies_a_valid_config_and_logs_changes(agent_factory, dev_config):
    path = dev_config()
    a = agent_factory(["--config", str(path)])
    a.wait_for("running")
    dev_config("log.level = debug\nwatchdog.timeout = 45s\n")
    a.signal(signal.SIGHUP)
    a.wait_for("log.level: info -> debug")
    a.wait_for("watchdog.timeout:")
    a.wait_for("2 keys changed")
    assert a.proc.poll() is None
    assert a.stop() == 0


def test_sighup_refuses_an_invalid_config_and_keeps_running(agent_factory, dev_config):
    path = dev_config()
    a = agent_factory(["--config", str(path)])
    a.wait_for("running")
    with open(path, "a") as f:
        f.write("log.level = shouting\n")
    a.signal(signal.SIGHUP)
    line = a.wait_for("log.level")
    assert f"{path}:6:" in line
    a.wait_for("reload refused")
    assert a.proc.poll() is None
    # The old level (info) is still in force: a fixed file reloads fine.
    dev_config("log.level = warn\n")
    a.signal(signal.SIGHUP)
    a.wait_for("log.level: info -> warn")
    assert a.stop() == 0


def test_invalid_config_at_start_exits_1(agent_factory, tmp_path):
    path = tmp_path / "bad.conf"
    path.write_text("watchdog.timeout = forever\n")
    a = agent_factory(["--config", str(path)])
    assert a.wait_exit() == 1
    a.wait_for(f"{path}:1:")


def test_missing_explicit_config_exits_1(agent_factory, tmp_path):
    a = agent_factory(["--config", str(tmp_path / "absent.conf")])
    assert a.wait_exit() == 1
    a.wait_for("absent.conf")


def test_unusable_data_dir_exits_1(agent_factory, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    path = tmp_path / "v.conf"
    path.write_text(f"data.dir = {blocker}/data\nwatchdog.device = none\n"
                    "console.device = none\n")
    a = agent_factory(["--config", str(path)])
    assert a.wait_exit() == 1
    a.wait_for("data.dir")
