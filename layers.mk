# layers.mk — the dependency direction of vigild's folders, enforced by
# the compiler: a file in folder F is compiled with -I for F and for the
# folders LAYER_F names (plus hal/include, protocol/, the board and the
# generated headers, which every folder may use), so an #include of a
# header from any other folder fails the build.  Lower layers first;
# each list is closed under the headers its folders' headers include.
# tests/layers.py checks the include graph against this table and for
# cycles (make check runs it).  docs/architecture.md draws it.
# protocol/ (pure codecs) and the HAL depend on nothing of vigil's: they
# are compiled without any folder's -I below.
LAYER_protocol :=
LAYER_hal/include/hal :=
LAYER_hal/linux := hal/include/hal
LAYER_hal/sim := hal/include/hal
# What every folder below may use besides its list.
LAYER_BASE := protocol hal/include/hal
LAYER_lib :=
LAYER_firmware/crypto := lib
LAYER_firmware/config := lib
LAYER_firmware/backup := lib firmware/crypto firmware/config
LAYER_firmware/health := lib firmware/backup firmware/crypto firmware/config
LAYER_firmware/coap := lib firmware/crypto firmware/config firmware/backup \
	firmware/health
LAYER_firmware/console := lib firmware/crypto firmware/config \
	firmware/backup firmware/health
LAYER_firmware/agent := lib firmware/crypto firmware/config firmware/backup \
	firmware/health firmware/coap firmware/console
