# board/bbb — build settings (see board.h for what the board is).
BOARD_ARCH := armv7
BOARD_CFLAGS := -mcpu=cortex-a8 -mfpu=neon -mfloat-abi=hard
BOARD_LDFLAGS :=
