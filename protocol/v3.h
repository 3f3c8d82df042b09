/*
 * v3.h — CyberBackup protocol version 3: pack and parse of every request
 * (1025-1031) and response (1600-1607), the file-name rules servers
 * enforce, and the mapping of appliance paths to such names.
 *
 * The wire format is ../../shared/protocol-cyberbackup-v3.md; the codec's
 * view (offsets, limits, each check and its reason) is
 * docs/protocol/cyberbackup-v3.md.  Both ends use this code: the client
 * packs requests and parses responses, the server parses requests and
 * packs responses.
 *
 * Pure: no I/O, no allocation, no global state.  Parsed messages hold
 * copies of the small fields (names, sizes) and borrowed views (pointer +
 * length) of the large ones (public key, wrapped AES key, ciphertext
 * slice), valid while the caller's input buffer is.
 *
 * Receiving (server, non-blocking socket): accumulate V3_REQ_HDR_SIZE
 * bytes, v3_req_hdr_parse(); on error answer 1607 and close without
 * reading the payload.  Then either accumulate payload_size bytes and call
 * v3_req_payload_parse(), or, for 1028 (whose payload may be up to the
 * cap), accumulate V3_FILE_HEAD_SIZE bytes, v3_req_file_head_parse(), and
 * stream the data_len ciphertext bytes that follow straight to storage.
 * Responses go the same way with v3_resp_hdr_parse() and
 * v3_resp_payload_parse().  v3_req_decode()/v3_resp_decode() do it all on
 * one buffer.
 *
 * Sending: v3_req_pack()/v3_resp_pack() write a whole message;
 * v3_req_pack_head() writes a 1028's header and fixed part only, so the
 * ciphertext slice can be sent from the caller's own buffer.  A client
 * streams a file with one buffer of V3_REQ_FILE_HEAD_MAX + slice bytes:
 * v3_file_packet() gives packet k's fields and slice length, the cipher
 * writes the slice at buf + V3_REQ_FILE_HEAD_MAX, v3_req_pack_head()
 * writes buf[0..V3_REQ_FILE_HEAD_MAX), one send.  A server checks that
 * the 1028s of one transfer form a sequence with v3_file_rx_packet().
 *
 * Errors: functions return >= 0 on success and a negated errno:
 *   -EBADMSG   the bytes break the protocol (the reason says which rule)
 *   -EMSGSIZE  a payload larger than the configured cap, a name or path
 *              too long for the rules
 *   -EAGAIN    (decode only) more bytes are needed
 *   -ENOSPC    output buffer too small; nothing was written
 *   -EINVAL    misuse, or a message to pack that breaks the rules
 * Every failing call stores a reason in *why (when why is not NULL; V3_OK
 * on success), with a short text from v3_reason_str() for logs.
 */
#ifndef VIGIL_V3_H
#define VIGIL_V3_H

#include <stddef.h>
#include <stdint.h>

#define V3_VERSION 3
/* The vigil/2 extension ("clear payload inside TLS"): a request with this
 * version byte is a v3 request whose 1028 slices are the plaintext file
 * (content size = original size, no padding, no AES-CBC).  Only a
 * connection that negotiated ALPN "vigil/2" may carry it; parsers refuse
 * it unless the caller passes V3_PARSE_CLEAR.  Responses stay version 3.
 * docs/protocol/cyberbackup-v3.md, "Extension: clear payload inside TLS". */
#define V3_VERSION_CLEAR 4
/* Flag for v3_req_hdr_parse_ext/v3_req_decode_ext: accept version 4. */
#define V3_PARSE_CLEAR 1u

/* Request header: client id 16 + version 1 + code 2 + payload size 4. */
#define V3_REQ_HDR_SIZE 23
/* Response header: version 1 + code 2 + payload size 4. */
#define V3_RESP_HDR_SIZE 7

#define V3_ID_SIZE 16
/* Name fields: ASCII, NUL-terminated, zero-padded to 255 bytes, so at
 * most 254 characters fit. */
#define V3_NAME_FIELD 255
#define V3_NAME_FIELD_MAX (V3_NAME_FIELD - 1)
/* Longest file name servers accept ("variants": more than 250 -> 1607);
 * buffers for names are V3_NAME_MAX + 1. */
#define V3_NAME_MAX 250

/* 1026: DER SubjectPublicKeyInfo of RSA-1024; 160 bytes with e = 17 (the
 * 3.0 server), 162 with e = 65537 (the older revision).  The key field is
 * 160 or 162 bytes; the original C++ client sends its 160-byte DER in a
 * 162-byte field, followed by 2 bytes of slack (V3_PUBKEY_SLACK). */
#define V3_PUBKEY_SIZE_E17 160
#define V3_PUBKEY_SIZE_E65537 162
#define V3_PUBKEY_SLACK (V3_PUBKEY_SIZE_E65537 - V3_PUBKEY_SIZE_E17)
/* 1602/1605: the AES key wrapped with RSA-OAEP.  An RSA ciphertext is
 * exactly as long as the modulus (RFC 8017 7.1.1), and both server
 * revisions use our RSA-1024 key, so anything but 128 bytes cannot be
 * decrypted and is refused at the codec. */
#define V3_RSA_BLOB_SIZE 128

/* 1028 fixed part: content size 4 + original size 4 + packet number 2 +
 * total packets 2 + file name 255; the ciphertext slice follows. */
#define V3_FILE_HEAD_SIZE 267
/* The original C++ client starts its 1028 ciphertext stream with the IV,
 * one block of zeros: then the stream is V3_IV_BLOCK + the CBC size
 * (v3_cbc_iv_block tells the two apart by length). */
#define V3_IV_BLOCK 16
/* 1603 payload: client id 16 + content size 4 + file name 255 + cksum 4. */
#define V3_CRC_RESP_SIZE 279

/* The payload cap servers enforce per request ("variants": more than
 * 16 MiB + 1024 bytes -> 1607); the default for v3_req_hdr_parse's cap. */
#define V3_PAYLOAD_CAP_DEFAULT (16u * 1024u * 1024u + 1024u)

/* Packet numbers are u16: a file is at most 65535 packets. */
#define V3_PACKETS_MAX 65535u
/* Largest original size whose AES-CBC/PKCS#7 ciphertext, ((n / 16) + 1)
 * * 16 bytes, still fits the u32 content size: 2^32 - 17. */
#define V3_FILE_MAX 4294967279u

/* Buffer sizes for packing: the largest request other than a 1028 slice
 * (1026 with the 162-byte key), a 1028 head, the largest response. */
#define V3_REQ_SMALL_MAX (V3_REQ_HDR_SIZE + V3_NAME_FIELD + V3_PUBKEY_SIZE_E65537)
#define V3_REQ_FILE_HEAD_MAX (V3_REQ_HDR_SIZE + V3_FILE_HEAD_SIZE)
#define V3_RESP_MAX (V3_RESP_HDR_SIZE + V3_CRC_RESP_SIZE)

enum v3_code {
	V3_REQ_REGISTER = 1025,      /* name */
	V3_REQ_PUBKEY = 1026,        /* name, public key */
	V3_REQ_RECONNECT = 1027,     /* name */
	V3_REQ_FILE = 1028,          /* file head, ciphertext slice */
	V3_REQ_CRC_OK = 1029,        /* file name */
	V3_REQ_CRC_RETRY = 1030,     /* file name */
	V3_REQ_CRC_ABORT = 1031,     /* file name */
	V3_RESP_REGISTER_OK = 1600,  /* client id */
	V3_RESP_REGISTER_FAIL = 1601,
	V3_RESP_AES_KEY = 1602,      /* client id, wrapped AES key */
	V3_RESP_FILE_CRC = 1603,     /* client id, content size, name, cksum */
	V3_RESP_ACK = 1604,          /* client id */
	V3_RESP_RECONNECT_OK = 1605, /* client id, wrapped AES key */
	V3_RESP_RECONNECT_DENIED = 1606, /* client id */
	V3_RESP_ERROR = 1607
};

/* Why a parse, pack or check failed; one value per rule. */
enum v3_reason {
	V3_OK = 0,
	V3_E_LENGTH,          /* input length not what the call needs (misuse) */
	V3_E_VERSION,         /* version byte is not 3 (or 4 where allowed) */
	V3_E_CODE,            /* code unknown in this direction */
	V3_E_SIZE_CAP,        /* payload size over the cap */
	V3_E_SIZE_LAYOUT,     /* payload size does not fit the code's layout */
	V3_E_NAME_UNTERMINATED, /* no NUL within the 255-byte field */
	V3_E_NAME_EMPTY,
	V3_E_NAME_TOO_LONG,   /* file name > 250, or > 254 for the field */
	V3_E_NAME_CHAR,       /* a character the servers' set lacks (%, :, ...) */
	V3_E_NAME_DOTDOT,     /* ".." anywhere, or the name "." */
	V3_E_NAME_SEPARATOR,  /* '/' or '\' */
	V3_E_NAME_CONTROL,    /* NUL, 0x7f or a byte < 0x20 but whitespace */
	V3_E_NAME_NON_ASCII,  /* byte >= 0x80 */
	V3_E_NAME_DEVICE,     /* device name before the last '.' (CON, ...) */
	V3_E_KEY_SIZE,        /* public key not 160/162, wrapped key not 128 */
	V3_E_KEY_FORMAT,      /* public key not an RSA-1024 SPKI in DER */
	V3_E_PACKET_TOTAL,    /* total packets 0, or more than content bytes */
	V3_E_PACKET_NUMBER,   /* packet number 0 or > total */
	V3_E_CONTENT_SIZE,    /* content size is not the CBC size of orig size
			       * (version 4: not orig size) */
	V3_E_SLICE_SIZE,      /* slice empty (but an empty clear file), >
			       * content size, or != it alone */
	V3_E_PATH,            /* path to map: not absolute, empty, ".", ".." */
	V3_E_ESCAPE,          /* name to unmap was not made by the mapping */
	V3_E_PACKET_ORDER,    /* 1028 not the next packet of the transfer */
	V3_E_PACKET_MISMATCH, /* 1028 fields differ from its packet 1 */
	V3_E_FIELD,           /* vigil/2 extension: a field out of its range
			       * (v3x.h) */
	V3_REASON_COUNT
};

/* A request; parse fills it, pack reads it. */
struct v3_req {
	uint8_t client_id[V3_ID_SIZE];
	/* parse: as received (3, or 4 with V3_PARSE_CLEAR); pack: 0 or 3
	 * packs version 3, V3_VERSION_CLEAR version 4.  It also says how a
	 * 1028's content size relates to its original size. */
	uint8_t version;
	uint16_t code;         /* enum v3_code */
	uint32_t payload_size; /* parse: from the header; pack: computed */
	/* 1025-1027: the client name; 1028-1031: the file name.  Always
	 * NUL-terminated. */
	char name[V3_NAME_FIELD];
	/* 1026: the DER public key (borrowed view, 160 or 162 bytes) and
	 * the slack bytes after it in the key field: 0, or V3_PUBKEY_SLACK
	 * after a 160-byte key (the original C++ client).  Parse ignores
	 * the slack's contents; pack writes zeros. */
	const uint8_t *key;
	size_t key_len;
	uint8_t key_slack;
	/* 1028.  content_size is the size of the WHOLE ciphertext (the same
	 * in every packet), not of this packet's slice; in version 4 it is
	 * the plaintext size, orig_size.  The original C++ client's 1028s
	 * differ, and parse accepts them (v3_file_per_packet): a version-3
	 * content size of V3_IV_BLOCK + the CBC size (the stream starts
	 * with its IV block), and in a transfer of several packets, each
	 * packet's own slice length. */
	uint32_t content_size;
	uint32_t orig_size;
	uint16_t packet;       /* 1..total */
	uint16_t total;
	/* 1028: this packet's ciphertext slice (borrowed view; version 4:
	 * plaintext, empty for an empty file).  After
	 * v3_req_file_head_parse data is NULL and data_len is the number of
	 * slice bytes that follow on the wire. */
	const uint8_t *data;
	size_t data_len;
};

/* A response; parse fills it, pack reads it. */
struct v3_resp {
	uint8_t version;       /* parse: as received; pack: always 3 */
	uint16_t code;
	uint32_t payload_size; /* parse: from the header; pack: computed */
	uint8_t client_id[V3_ID_SIZE]; /* all codes but 1601 and 1607 */
	/* 1602/1605: the RSA-wrapped AES key (borrowed view, 128 bytes). */
	const uint8_t *key;
	size_t key_len;
	/* 1603 */
	uint32_t content_size;
	char name[V3_NAME_FIELD];
	uint32_t cksum;
};

/* Short text for a reason, for logs ("bad version", ...); never NULL. */
const char *v3_reason_str(enum v3_reason why);

/* ---- requests ---- */

/* Parses a request header from exactly V3_REQ_HDR_SIZE bytes into *r
 * (the rest of *r is zeroed).  Checks, in order: version (V3_E_VERSION),
 * request code (V3_E_CODE), payload size against cap (V3_E_SIZE_CAP;
 * V3_PAYLOAD_CAP_DEFAULT is the servers' rule), payload size against the
 * code's layout (V3_E_SIZE_LAYOUT: exact for fixed payloads, 415 or 417
 * for 1026, at least V3_FILE_HEAD_SIZE + 1 for 1028).  The fields are
 * filled even on error, for the log line.
 * @retval 0         valid header
 * @retval -EBADMSG  a check failed: the server answers 1607 and closes
 * @retval -EMSGSIZE payload size over cap: likewise
 * @retval -EINVAL   len != V3_REQ_HDR_SIZE */
int v3_req_hdr_parse(struct v3_req *r, const uint8_t *buf, size_t len,
		     uint32_t cap, enum v3_reason *why);

/* As v3_req_hdr_parse, with flags: V3_PARSE_CLEAR accepts version 4
 * (V3_VERSION_CLEAR) as well as 3, for a connection that negotiated the
 * vigil/2 extension; then 1028's layout is a payload of at least
 * V3_FILE_HEAD_SIZE bytes (an empty file has an empty slice).  Without
 * the flag it is v3_req_hdr_parse.
 * @retval 0, -EBADMSG, -EMSGSIZE, -EINVAL  as v3_req_hdr_parse */
int v3_req_hdr_parse_ext(struct v3_req *r, const uint8_t *buf, size_t len,
			 uint32_t cap, unsigned flags, enum v3_reason *why);

/* Parses the payload of the request whose header v3_req_hdr_parse
 * accepted into *r; len must be r->payload_size.  Checks the name field
 * (terminated), the client-name rules (1025-1027: non-empty, printable
 * ASCII) or the file-name rules (1028-1031, v3_file_name_check), the
 * public key (1026: the DER SubjectPublicKeyInfo of an RSA key with a
 * 1024-bit modulus and an odd exponent >= 3 of 1 byte (160 bytes in all)
 * or 3 bytes (162), nothing else, V3_E_KEY_FORMAT; a 162-byte field whose
 * DER says 160 bytes is that key and V3_PUBKEY_SLACK bytes of slack) and
 * the 1028 fields
 * (see v3_req_file_head_parse).
 * buf is borrowed: r->key and r->data point into it.
 * @retval 0         valid payload
 * @retval -EBADMSG  a check failed
 * @retval -EINVAL   len != r->payload_size, or r->code not a request */
int v3_req_payload_parse(struct v3_req *r, const uint8_t *buf, size_t len,
			 enum v3_reason *why);

/* For 1028 only: parses the fixed part, exactly V3_FILE_HEAD_SIZE bytes,
 * so the caller can stream the slice.  Checks: total >= 1
 * (V3_E_PACKET_TOTAL), 1 <= packet <= total (V3_E_PACKET_NUMBER),
 * content size == v3_content_size of orig size for r->version, or in
 * version 3 V3_IV_BLOCK more, or (total > 1) the slice length itself, at
 * most V3_IV_BLOCK + the CBC size (V3_E_CONTENT_SIZE), slice length
 * (payload size - 267) in 1..content size, and equal to it when total is
 * 1 (V3_E_SLICE_SIZE), total <= the whole ciphertext size
 * (V3_E_PACKET_TOTAL), the file name.  Version 4 with
 * content size 0 (an empty file) must be total 1 with an empty slice.
 * Sets r->data = NULL, r->data_len = slice length.
 * @retval 0         valid
 * @retval -EBADMSG  a check failed
 * @retval -EINVAL   len != V3_FILE_HEAD_SIZE, r->code != 1028 or
 *                   r->payload_size < V3_FILE_HEAD_SIZE */
int v3_req_file_head_parse(struct v3_req *r, const uint8_t *buf, size_t len,
			   enum v3_reason *why);

/* Header and payload from one buffer (tests, fuzzing, simple servers).
 * @retval >0        bytes of buf the request occupies (23 + payload)
 * @retval -EAGAIN   buf holds a valid header but not the whole payload,
 *                   or fewer than 23 bytes
 * @retval -EBADMSG, -EMSGSIZE  as the two calls above */
int v3_req_decode(struct v3_req *r, const uint8_t *buf, size_t len,
		  uint32_t cap, enum v3_reason *why);

/* v3_req_decode with v3_req_hdr_parse_ext's flags. */
int v3_req_decode_ext(struct v3_req *r, const uint8_t *buf, size_t len,
		      uint32_t cap, unsigned flags, enum v3_reason *why);

/* Packs request *r (client_id, version, code and the fields of its code;
 * payload_size is ignored) into out[0..cap).  Version 0 or 3 packs a v3
 * request, V3_VERSION_CLEAR a version-4 one (the caller's business to
 * send only on a vigil/2 connection).  The fields must pass the same
 * checks as parsing.  Needs at most V3_REQ_SMALL_MAX bytes, or
 * V3_REQ_FILE_HEAD_MAX + data_len for 1028.
 * @retval >0       bytes written
 * @retval -EINVAL  the message breaks a rule (*why says which; another
 *                  version is V3_E_VERSION), or 1028 data is NULL with
 *                  data_len > 0
 * @retval -ENOSPC  cap too small; nothing written */
int v3_req_pack(uint8_t *out, size_t cap, const struct v3_req *r,
		enum v3_reason *why);

/* As v3_req_pack, but for 1028 writes only the header and the fixed part
 * (V3_REQ_FILE_HEAD_MAX bytes), with the payload size counting data_len
 * slice bytes that the caller sends next; r->data is not read.  Other
 * codes: same as v3_req_pack.
 * @retval >0, -EINVAL, -ENOSPC  as v3_req_pack */
int v3_req_pack_head(uint8_t *out, size_t cap, const struct v3_req *r,
		     enum v3_reason *why);

/* ---- responses ---- */

/* Parses a response header from exactly V3_RESP_HDR_SIZE bytes into *r
 * (the rest zeroed).  Checks version, response code, payload size against
 * the layout (exact; 16 + 128 for 1602/1605, where 16 + other is
 * V3_E_KEY_SIZE).  Fields are filled even on error: a client that gets
 * 1601/1606/1607 with an odd payload still knows the server refused.
 * @retval 0         valid
 * @retval -EBADMSG  a check failed
 * @retval -EINVAL   len != V3_RESP_HDR_SIZE */
int v3_resp_hdr_parse(struct v3_resp *r, const uint8_t *buf, size_t len,
		      enum v3_reason *why);

/* Parses the payload (len == r->payload_size) into *r.  The 1603 name is
 * checked for termination only: it is the server's echo of ours, compared
 * by the caller.  buf is borrowed: r->key points into it.
 * @retval 0         valid
 * @retval -EBADMSG  a check failed
 * @retval -EINVAL   len != r->payload_size, or r->code not a response */
int v3_resp_payload_parse(struct v3_resp *r, const uint8_t *buf, size_t len,
			  enum v3_reason *why);

/* Header and payload from one buffer.
 * @retval >0, -EAGAIN, -EBADMSG  as v3_req_decode */
int v3_resp_decode(struct v3_resp *r, const uint8_t *buf, size_t len,
		   enum v3_reason *why);

/* Packs response *r (code and the fields of its code) into out[0..cap);
 * at most V3_RESP_MAX bytes.
 * @retval >0       bytes written
 * @retval -EINVAL  unknown code, key_len != 128, name not terminated
 * @retval -ENOSPC  cap too small; nothing written */
int v3_resp_pack(uint8_t *out, size_t cap, const struct v3_resp *r,
		 enum v3_reason *why);

/* ---- file names (v3_name.c) ---- */

/* The rule the deployed servers apply to file names (1028-1031), exactly
 * (shared/protocol-cyberbackup-v3.md, "Variants"), on name[0..len) (not
 * NUL-terminated; a NUL inside is a control byte): 1 to V3_NAME_MAX
 * characters; each one a letter, digit, '.', '_', '-' or ASCII
 * whitespace (space, \t \n \v \f \r: Python's \s); no ".." anywhere;
 * the part before the last '.' (the whole name without one), upper-cased,
 * not CON, PRN, AUX, NUL, COM1-COM9 or LPT1-LPT9.  One addition: the name
 * "." (it passes the pattern but names the directory a server stores in).
 * vigil-backupd applies it to every peer, the client to what it sends.
 * @retval 0         acceptable
 * @retval -EBADMSG  refused (*why: V3_E_NAME_*) */
int v3_file_name_check(const char *name, size_t len, enum v3_reason *why);

/* The rules for client names (1025-1027): non-empty, at most
 * V3_NAME_FIELD_MAX characters, printable ASCII (space allowed).
 * @retval 0, -EBADMSG  as v3_file_name_check */
int v3_client_name_check(const char *name, size_t len, enum v3_reason *why);

/* Maps an absolute appliance path to a file name the deployed servers
 * accept, deterministically, injectively and reversibly
 * (docs/protocol/cyberbackup-v3.md, "Mapping appliance paths to names"):
 *   - the leading '/' is dropped and every other '/' becomes '_';
 *   - letters, digits, '.', '-' and space stay as they are;
 *   - every other byte becomes "_-HH" (two upper-case hex digits): '_'
 *     is "_-5F", UTF-8 "\xc3\xa9" is "_-C3_-A9";
 *   - so do a '-' right after a '/' ("/a/-x" -> "a__-2Dx"), a '.' right
 *     after a literal '.' ("a..b" -> "a._-2Eb"), and the first character
 *     of a Windows device name ("/con.txt" -> "_-63on.txt").
 * "/var/lib/app/data.db" -> "var_lib_app_data.db",
 * "/srv/my_app/a b.txt" -> "srv_my_-5Fapp_a b.txt".
 * path[0..len) need not be NUL-terminated.  out receives the name and a
 * NUL (V3_NAME_MAX + 1 bytes always suffice).  The result always passes
 * v3_file_name_check.  There is no shortening: a path whose name would be
 * longer than V3_NAME_MAX fails (a hashed short name could not be mapped
 * back without a table the server does not keep).
 * @retval >0        length of the name
 * @retval -EINVAL   not absolute, "/", an empty, "." or ".." component,
 *                   or a NUL byte (V3_E_PATH)
 * @retval -EMSGSIZE the name would exceed V3_NAME_MAX (V3_E_NAME_TOO_LONG)
 * @retval -ENOSPC   cap too small for the name and its NUL */
int v3_name_from_path(char *out, size_t cap, const char *path, size_t len,
		      enum v3_reason *why);

/* The inverse: the path a name produced by v3_name_from_path came from.
 * Names the mapping cannot produce (bad, lower-case or needless escapes,
 * "a__b" with its empty component, ...) are refused, so v3_name_from_path(
 * v3_path_from_name(n)) == n whenever this succeeds, and no two names
 * give the same path.  out receives the path and a NUL (V3_NAME_MAX + 2
 * bytes suffice).
 * @retval >0        length of the path
 * @retval -EBADMSG  not a mapped name (V3_E_ESCAPE, or a V3_E_NAME_*)
 * @retval -ENOSPC   cap too small */
int v3_path_from_name(char *out, size_t cap, const char *name, size_t len,
		      enum v3_reason *why);

/* ---- sizes ---- */

/* The AES-256-CBC/PKCS#7 ciphertext size of orig bytes: (orig / 16 + 1)
 * * 16, into *out.
 * @retval 0          fits the u32 content size
 * @retval -EMSGSIZE  orig > V3_FILE_MAX */
int v3_cbc_size(uint64_t orig, uint32_t *out);

/* The 1028 content size of orig plaintext bytes: v3_cbc_size, or with
 * clear (version 4) orig itself.  The codec's 1028 checks and the
 * client's check of the 1603 use the same rule.
 * @retval 0          fits the u32 content size
 * @retval -EMSGSIZE  orig > V3_FILE_MAX (CBC) or > UINT32_MAX (clear) */
int v3_content_size(int clear, uint64_t orig, uint32_t *out);

/* The packet count for sending content_size ciphertext bytes in slices of
 * at most slice_max bytes, into *total.
 * @retval 0          ok (1 <= *total <= V3_PACKETS_MAX)
 * @retval -EINVAL    content_size or slice_max is 0
 * @retval -EMSGSIZE  more than V3_PACKETS_MAX packets: use larger slices */
int v3_packet_count(uint32_t content_size, size_t slice_max,
		    uint16_t *total);

/* ---- 1028 transfers ---- */

/* Client side: the 1028 fields of packet `packet` of a file of orig_size
 * plaintext bytes sent as one AES-CBC ciphertext in slices of slice_max
 * bytes (the last one shorter).  Sets r->content_size, orig_size, packet,
 * total and data_len (this slice's length; its bytes are ciphertext
 * offsets (packet - 1) * slice_max onwards); the other fields are the
 * caller's.  With r->version == V3_VERSION_CLEAR (set by the caller) the
 * slices are the plaintext itself (content size = orig_size), and an
 * empty file is one packet with an empty slice.  A slice_max that is a multiple of 16 keeps slices on cipher
 * blocks; any value works (servers concatenate).
 * @retval 0         ok
 * @retval -EINVAL   slice_max 0, or packet 0 or > total
 * @retval -EMSGSIZE orig_size > V3_FILE_MAX (clear: > UINT32_MAX), or
 *                   more than V3_PACKETS_MAX packets (use larger slices) */
int v3_file_packet(struct v3_req *r, uint64_t orig_size, size_t slice_max,
		   uint16_t packet);

/* Whether a version-3 ciphertext stream of total bytes for orig
 * plaintext bytes begins with the original C++ client's IV block, by
 * length alone: the two readings differ by exactly V3_IV_BLOCK bytes.
 * @retval 0         total = v3_cbc_size(orig): no IV block
 * @retval 1         total = V3_IV_BLOCK + v3_cbc_size(orig) (<= 2^32 - 1)
 * @retval -EBADMSG  neither, or orig > V3_FILE_MAX */
int v3_cbc_iv_block(uint64_t orig, uint64_t total);

/* Whether the 1028 *r (parsed) carries its own slice length as content
 * size in a version-3 transfer of several packets, as the original C++
 * client does.  Never ambiguous: with the whole size, every packet of a
 * transfer of several carries less than the whole (the others carry at
 * least one byte each), so content size > slice length.
 * @retval 1 per-packet content sizes  @retval 0 the whole size */
int v3_file_per_packet(const struct v3_req *r);

/* Server side: one in-progress 1028 transfer.  A plain struct of the
 * caller's (one per connection), zeroed by v3_file_rx_reset. */
struct v3_file_rx {
	char name[V3_NAME_FIELD];
	uint32_t content_size;  /* packet 1's */
	uint32_t orig_size;
	uint32_t received;  /* ciphertext bytes of packets 1..next-1; after
			     * the last packet, of all of them */
	uint16_t total;
	uint16_t next;      /* packet expected next; 0: no transfer open */
	uint8_t version;    /* packet 1's: 3, or 4 (clear) */
	uint8_t per_packet; /* packet 1's v3_file_per_packet */
	/* After the last packet: 1 the stream began with an IV block
	 * (v3_cbc_iv_block of received), 0 it did not (or clear). */
	uint8_t iv_block;
};

/* Forgets any transfer: the next 1028 must be a packet 1. */
void v3_file_rx_reset(struct v3_file_rx *rx);

/* Checks that the 1028 *r (accepted by v3_req_file_head_parse or
 * v3_req_payload_parse; r->data is not read) continues the transfer in
 * *rx, and records it.  vigil's rule (servers in the field also take any
 * order): packets come in order 1..total; packet 1 opens a transfer (only
 * when none is open); later packets repeat packet 1's version, name,
 * content size, original size and total; the slices add up to exactly the content size
 * by the last packet.  With per-packet content sizes (v3_file_per_packet
 * of packet 1) every packet must carry its own slice length instead, and
 * the slices must add up to the CBC size or V3_IV_BLOCK more
 * (v3_cbc_iv_block).  On success the caller stores the slice; after the
 * last packet no transfer is open (next = 0) and received and iv_block
 * give the whole stream.  On error *rx is reset: the server answers 1607
 * and drops the partial file.
 * @retval 1         the last packet: the file is complete, answer 1603
 * @retval 0         accepted, more packets follow (no answer)
 * @retval -EBADMSG  V3_E_PACKET_ORDER (not the expected packet number),
 *                   V3_E_PACKET_MISMATCH (fields differ from packet 1,
 *                   or per-packet content sizes switched on or off),
 *                   V3_E_SLICE_SIZE (slices would pass the content size,
 *                   or the last leaves it short)
 * @retval -EINVAL   r->code is not 1028 */
int v3_file_rx_packet(struct v3_file_rx *rx, const struct v3_req *r,
		      enum v3_reason *why);

#endif
