# board/rpi4 — build settings (see board.h for what the board is).
BOARD_ARCH := aarch64
BOARD_CFLAGS := -mcpu=cortex-a72
# The board's kernel uses 4 KiB pages; ld's aarch64 default (64 KiB)
# padded the file by ~27 KB between the text and data segments.
BOARD_LDFLAGS := -Wl,-z,max-page-size=4096
