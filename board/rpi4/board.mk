# board/rpi4 — build settings (see board.h for what the board is).
BOARD_ARCH := aarch64
BOARD_CFLAGS := -mcpu=cortex-a72
