# board/qemu-armv7 — build settings (see board.h for what the board is).
BOARD_ARCH := armv7
BOARD_CFLAGS := -mcpu=cortex-a15 -mfpu=neon-vfpv4 -mfloat-abi=hard
