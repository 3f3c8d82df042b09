# board/qemu-aarch64 — build settings (see board.h for what the board is).
BOARD_ARCH := aarch64
# CKSUM_SLICES=1: the CPU folds the cksum with PMULL (QEMU's Cortex-A57 has
# it), so 15 of the 16 KiB of slicing tables stay out (docs/protocol/cksum.md).
BOARD_CFLAGS := -mcpu=cortex-a57 -DCKSUM_SLICES=1
# The board's kernel uses 4 KiB pages; ld's aarch64 default (64 KiB)
# padded the file by ~27 KB between the text and data segments.
BOARD_LDFLAGS := -Wl,-z,max-page-size=4096
