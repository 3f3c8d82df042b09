"""qemu-x86_64 appliance, booted once and taken through the issue's
scenarios in order (each test continues from the previous one's state):
console, i6300esb watchdog, CoAP status from the host, a backup over TLS,
a requested reboot, a required check failing into real watchdog resets
until safe mode, and a power cut."""
import re
import shutil
import subprocess
import time

from conftest import (backup_and_compare, coap_client_status,
                      coap_status_both, console_and_watchdog, fault_until_reset,
                      report, vigilctl_status, wait_watchdog_reset)

BOARD = "qemu-x86_64"


def test_boot_to_console(appliance):
    vm, _srv, _payload, boot = appliance
    assert boot["start"][:2] == (1, "power_on")
    report(f"{BOARD}: power-on to console prompt {boot['t_prompt'] - vm.t_power_on:.1f} s")
    console_and_watchdog(vm, "i6300ESB timer")


def test_status_over_coap(appliance, tmp_path):
    vm = appliance[0]
    doc = coap_status_both(vm, str(tmp_path))
    assert doc["boot"]["count"] == 1 and doc["watchdog"]["kicks"] > 0
    assert doc["health"]["overall"] in ("healthy", "degraded")


def test_backup_over_tls(appliance):
    vm, srv, payload, _ = appliance
    backup_and_compare(vm, srv, payload)


def test_requested_reboot(appliance):
    vm = appliance[0]
    since, t_asked = vm.mark(), time.monotonic()
    vm.send_line("reboot because-test")
    # (the console's own "rebooting" does not get out before the restart)
    m = vm.wait_log(r"WARN console: reboot requested: because-test", since, 20)
    boot = vm.wait_booted(since=m.end())
    assert boot["start"] == (2, "requested", "because-test")
    assert "last reset requested: because-test" in vm.cmd("status")
    # qemu saw the guest reset itself, and no watchdog
    _, ev = vm.wait_event("RESET", after=t_asked, timeout=5)
    assert ev["data"]["guest"] is True and ev["data"]["reason"] == "guest-reset", ev
    assert not [e for _, e in vm.events if e["event"] == "WATCHDOG"]


def test_required_check_failure_resets_through_the_watchdog(appliance):
    vm = appliance[0]
    reset = fault_until_reset(vm)
    assert reset["reason"].startswith("storage unhealthy for ")
    boot = vm.wait_booted(since=reset["end"])
    # the fault was saved: this boot runs toward the next reset, so look now
    assert boot["start"] == (3, "watchdog", reset["reason"])
    assert f"last reset watchdog: {reset['reason']}" in vm.cmd("status")
    doc = vigilctl_status(vm.coap_port)
    assert doc["boot"]["last_reset"] == "watchdog" and doc["boot"]["reason"] == reset["reason"]
    assert doc["boot"]["watchdog_streak"] == 1 and not doc["boot"]["safe_mode"]
    report(f"{BOARD}: last kick to watchdog reset {reset['kick_to_reset']:.1f} s "
           f"(watchdog.timeout 5 s; vigild's stop message to reset {reset['stop_to_reset']:.1f} s)")


def test_three_watchdog_resets_in_a_row_mean_safe_mode(appliance, tmp_path):
    vm = appliance[0]
    since = vm.last_boot_end
    for count in (4, 5):
        reset = wait_watchdog_reset(vm, since)
        boot = vm.wait_booted(since=reset["end"])
        assert boot["start"][:2] == (count, "watchdog")
        since = boot["end"]
    assert vm.safe_mode
    assert "(SAFE MODE)" in vm.cmd("status")
    assert vm.status()["health"]["safe_mode"] is True
    doc = coap_client_status(vm.coap_port, str(tmp_path))
    assert doc["boot"]["safe_mode"] is True and doc["boot"]["watchdog_streak"] == 3
    # storage still fails past its grace, and safe mode goes on kicking
    withheld = vm.poll_cmd("wdt", r"kicks withheld: storage unhealthy", timeout=30)
    kicks = int(re.search(r"(\d+) kicks", withheld).group(1))
    later = vm.poll_cmd("wdt", r"(\d+) kicks", timeout=15,
                        accept=lambda m: int(m.group(1)) > kicks)
    assert "STOPPED" not in later
    vm.cmd(f"config set health.min_free {1 << 20}")
    assert "written to" in vm.cmd("config save")


def test_power_cut(appliance, tmp_path):
    vm = appliance[0]
    vm.power_cut()
    # the disk as the cut left it, checked on a copy the way a boot-time
    # fsck would (preen: replays the journal, fixes only what is safe to
    # fix, such as the superblock's free counts; 4 would mean damage)
    copy = tmp_path / "after-cut.img"
    shutil.copyfile(vm.data_img, copy)
    r = subprocess.run(["e2fsck", "-f", "-p", str(copy)], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode in (0, 1), r.stdout + r.stderr
    since = vm.mark()
    vm.start()
    boot = vm.wait_booted(since=since)
    assert boot["start"][:2] == (6, "crash")
    st = vm.status()
    assert st["health"]["last_reset"] == "crash" and st["health"]["safe_mode"] is False
    assert st["health"]["boot_count"] == 6
    assert int(vigilctl_status(vm.coap_port)["boot"]["watchdog_streak"]) == 0
    # the configuration saved before the cut is the one in force
    assert f"health.min_free = {1 << 20}" in vm.cmd("config get health.min_free")
