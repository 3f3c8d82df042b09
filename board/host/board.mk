# board/host — build settings (see board.h for what the board is).
BOARD_ARCH := x86_64
BOARD_CFLAGS := -march=x86-64
BOARD_LDFLAGS :=
