"""qemu-armv7 appliance (virt, cortex-a15, Debian's armmp kernel with
softdog): boots, answers its console, serves its status over CoAP."""
import re

from conftest import report, vigilctl_status

BOARD = "qemu-armv7"


def test_boot_console_and_coap(appliance, tmp_path):
    vm, _srv, _payload, boot = appliance
    assert boot["start"][:2] == (1, "power_on")
    report(f"{BOARD}: power-on to console prompt {boot['t_prompt'] - vm.t_power_on:.1f} s")
    assert "vigil-init: watchdog0: Software Watchdog, bootstatus 0" in vm.serial_text()
    assert re.search(r"vigild \S+ \(git \w+(-dirty)?, board qemu-armv7, armv7,",
                     vm.cmd("version"))
    vm.poll_cmd("wdt", r"device /dev/watchdog0 \(open\), timeout 5s, [1-9]\d* kicks",
                timeout=20)
    doc = vigilctl_status(vm.coap_port)
    assert doc["device"]["board"] == BOARD and doc["device"]["arch"] == "armv7"
    assert doc["boot"]["count"] == 1 and doc["watchdog"]["open"] is True
