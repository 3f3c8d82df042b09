"""qemu-aarch64 appliance (virt, cortex-a57, i6300esb on PCI), booted
once: console, watchdog, CoAP status from the host, a backup over TLS,
then a required check failing into a real watchdog reset, which the
kernel reports as WDIOF_CARDRESET at the next boot."""
from conftest import (backup_and_compare, coap_status_both, console_and_watchdog,
                      fault_until_reset, report, vigilctl_status)

BOARD = "qemu-aarch64"
WDIOF_CARDRESET = 0x20


def test_boot_to_console(appliance):
    vm, _srv, _payload, boot = appliance
    assert boot["start"][:2] == (1, "power_on")
    report(f"{BOARD}: power-on to console prompt {boot['t_prompt'] - vm.t_power_on:.1f} s")
    console_and_watchdog(vm, "i6300ESB timer")
    assert "vigil-init: watchdog0: i6300ESB timer, bootstatus 0" in vm.serial_text()


def test_status_over_coap(appliance, tmp_path):
    doc = coap_status_both(appliance[0], str(tmp_path))
    assert doc["boot"]["count"] == 1 and doc["watchdog"]["boot_status"] == 0


def test_backup_over_tls(appliance):
    vm, srv, payload, _ = appliance
    backup_and_compare(vm, srv, payload)


def test_required_check_failure_resets_through_the_watchdog(appliance):
    vm = appliance[0]
    reset = fault_until_reset(vm)
    boot = vm.wait_booted(since=reset["end"])
    # primary evidence: the driver's boot status (the i6300esb's reset
    # flag), seen by the kernel at boot and by vigild
    assert f"watchdog0: i6300ESB timer, bootstatus {WDIOF_CARDRESET}" in vm.serial_text()
    assert boot["start"][:2] == (2, "watchdog")
    assert boot["start"][2] == reset["reason"]
    doc = vigilctl_status(vm.coap_port)
    assert doc["watchdog"]["boot_status"] & WDIOF_CARDRESET
    assert doc["boot"]["last_reset"] == "watchdog" and doc["boot"]["reason"] == reset["reason"]
    report(f"{BOARD}: last kick to watchdog reset {reset['kick_to_reset']:.1f} s "
           f"(watchdog.timeout 5 s; vigild's stop message to reset {reset['stop_to_reset']:.1f} s)")
