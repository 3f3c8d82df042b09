/*
 * v3x.h — the vigil/2 extension messages beyond the clear 1028: capability
 * negotiation (1040/1640), listing a device's stored files (1041, answered
 * by 1641 entries and a 1642 end), reading a stored file (1043/1643),
 * a file's attributes before its upload (1044), the offset of a cut
 * upload (1045/1645), content the server already has (1046/1646), a
 * segment of a file too large for one 1028 transfer (1047/1647), the
 * job's trace id (1048), the membership of a run's snapshot (1049/1648)
 * and the refusal 1649.
 *
 * They are sent only on a TLS connection that negotiated ALPN "vigil/2"
 * (docs/protocol/cyberbackup-v3.md, "Extension: restore"), with version
 * byte 4 in both directions; a v3 request or response never has a code
 * of this range, so one look at the header routes a message
 * (v3x_req_is_ext, v3x_resp_is_ext).  Requests keep the 23-byte v3
 * header (the client id field is sent as zeros and ignored: the TLS
 * identity is the device), responses the 7-byte one.
 *
 * Pure like v3.h: no I/O, no allocation.  Parsed names are copied, a
 * 1643's data is a borrowed view.  Errors and reasons as in v3.h; a
 * field outside its range is V3_E_FIELD.
 */
#ifndef VIGIL_V3X_H
#define VIGIL_V3X_H

#include <stddef.h>
#include <stdint.h>

#include "v3.h"

enum v3x_code {
	V3X_REQ_HELLO = 1040,   /* caps */
	V3X_REQ_LIST = 1041,    /* snapshot, after, device */
	V3X_REQ_READ = 1043,    /* file, version, offset, length, device */
	V3X_REQ_ATTR = 1044,    /* mode, mtime, file name */
	V3X_REQ_OFFSET = 1045,  /* size, file name: how much is kept? */
	V3X_REQ_TRACE = 1048,   /* the job's trace id (no answer) */
	V3X_REQ_HAVE = 1046,    /* size, sha256, mode, mtime, file name */
	V3X_REQ_SEGMENT = 1047, /* size, offset, length, file name */
	V3X_REQ_SNAPSHOT = 1049, /* op: keep a file name, or seal the run */
	V3X_RESP_HELLO = 1640,  /* caps, chunk_max */
	V3X_RESP_ENTRY = 1641,  /* one stored file */
	V3X_RESP_LIST_END = 1642, /* snapshot, count, more */
	V3X_RESP_DATA = 1643,   /* file, version, offset, data */
	V3X_RESP_OFFSET = 1645, /* offset: bytes kept of a cut upload */
	V3X_RESP_HAVE = 1646,   /* have: 1 in the snapshot, 0 send it */
	V3X_RESP_SEGMENT = 1647, /* offset: bytes held after a segment */
	V3X_RESP_SNAPSHOT = 1648, /* snapshot, count: answers 1049 */
	V3X_RESP_REFUSED = 1649 /* request code, error */
};

/* Capability bits of 1040/1640. */
#define V3X_CAP_RESTORE 0x1u    /* 1041, 1043 */
#define V3X_CAP_ATTR 0x2u       /* 1044 */
#define V3X_CAP_RESUME 0x4u     /* 1045: resume a cut upload */
#define V3X_CAP_DEDUP 0x8u      /* 1046: content-addressed store */
#define V3X_CAP_LARGE 0x10u     /* 1047: files in segments, u64 sizes */
#define V3X_CAP_TRACE 0x40u     /* 1048: the server logs the trace id */
#define V3X_CAP_SNAPSHOT 0x80u  /* 1049: sealed snapshots (membership) */
#define V3X_CAPS_KNOWN (V3X_CAP_RESTORE | V3X_CAP_ATTR | V3X_CAP_RESUME | \
			V3X_CAP_DEDUP | V3X_CAP_LARGE | V3X_CAP_TRACE | \
			V3X_CAP_SNAPSHOT)

/* 1049's op. */
enum v3x_snap_op {
	V3X_SNAP_KEEP = 1,      /* the name stays in the run's snapshot */
	V3X_SNAP_SEAL = 2       /* the run covered the whole tree */
};

/* Why a 1649 refuses (the connection stays open). */
enum v3x_error {
	V3X_ERR_DENIED = 1,     /* the TLS identity may not read the device */
	V3X_ERR_NO_DEVICE = 2,
	V3X_ERR_NO_SNAPSHOT = 3,
	V3X_ERR_NO_FILE = 4,    /* no such file id/version on the device */
	V3X_ERR_SERVER = 5,     /* database or I/O error */
	V3X_ERR_ORDER = 6,      /* request not allowed now (no 1040 first) */
	V3X_ERR_MAX = 6
};

/* Fixed payload sizes. */
#define V3X_HELLO_REQ_SIZE 4
#define V3X_LIST_REQ_SIZE (16 + V3_NAME_FIELD)   /* 271 */
#define V3X_READ_REQ_SIZE (24 + V3_NAME_FIELD)   /* 279 */
#define V3X_ATTR_REQ_SIZE (16 + V3_NAME_FIELD)   /* 271 */
#define V3X_OFFSET_REQ_SIZE (8 + V3_NAME_FIELD)  /* 263 */
#define V3X_OFFSET_RESP_SIZE 8
/* 1048: a trace id of 1..V3X_TRACE_MAX characters [0-9a-z-], then zeros
 * up to the end of the fixed field. */
#define V3X_TRACE_MAX 32
#define V3X_TRACE_REQ_SIZE V3X_TRACE_MAX
#define V3X_SHA256_SIZE 32
#define V3X_HAVE_REQ_SIZE (56 + V3_NAME_FIELD)    /* 311 */
#define V3X_HAVE_RESP_SIZE 1
#define V3X_SEGMENT_REQ_SIZE (20 + V3_NAME_FIELD) /* 275 */
#define V3X_SEGMENT_RESP_SIZE 8
#define V3X_SNAP_REQ_SIZE (5 + V3_NAME_FIELD)     /* 260 */
#define V3X_SNAP_RESP_SIZE 12
#define V3X_HELLO_RESP_SIZE 8
#define V3X_ENTRY_HEAD 41                        /* + 1..250 name bytes */
#define V3X_LIST_END_SIZE 13
#define V3X_DATA_HEAD 20                         /* + 0..chunk data bytes */
#define V3X_REFUSED_SIZE 4
/* Largest 1043 length, and so largest 1643 data. */
#define V3X_CHUNK_MAX (1024u * 1024u)
/* Largest 1641 on the wire. */
#define V3X_ENTRY_MAX (V3_RESP_HDR_SIZE + V3X_ENTRY_HEAD + V3_NAME_MAX)
/* Largest request (1046). */
#define V3X_REQ_MAX (V3_REQ_HDR_SIZE + V3X_HAVE_REQ_SIZE)

/* One message either way; parse fills it, pack reads it.  Which fields
 * count depends on code (docs/protocol/cyberbackup-v3.md has the
 * layouts). */
struct v3x_msg {
	uint16_t code;          /* enum v3x_code */
	uint32_t payload_size;  /* parse: from the header; pack: computed */
	uint32_t caps;          /* 1040, 1640 */
	uint32_t chunk_max;     /* 1640 */
	uint64_t snapshot;      /* 1041 (0: latest), 1642 (as resolved),
				 * 1648 (the session the 1049 went to) */
	uint64_t after;         /* 1041: list files with id > after */
	uint64_t file_id;       /* 1043, 1641, 1643 */
	uint32_t version;       /* 1043, 1641, 1643 (>= 1) */
	uint64_t offset;        /* 1043, 1643, 1645, 1047, 1647 */
	uint32_t length;        /* 1043: 1..V3X_CHUNK_MAX; 1047: >= 1 */
	uint64_t size;          /* 1641, 1045-1047 (the whole file) */
	int64_t mtime_s;        /* 1044, 1046, 1641: seconds since 1970 */
	uint32_t mtime_ns;      /* 1044, 1046, 1641: < 10^9 */
	uint32_t mode;          /* 1044, 1046, 1641: permission bits (<= 07777) */
	uint8_t sha256[V3X_SHA256_SIZE]; /* 1046: the content's SHA-256 */
	uint8_t have;           /* 1646: 1 in the snapshot, 0 send the bytes */
	uint8_t op;             /* 1049: enum v3x_snap_op */
	uint32_t sessions;      /* 1049 seal: the run's sessions (>= 1) */
	uint32_t cksum;         /* 1641: the stored POSIX cksum */
	uint32_t count;         /* 1642: entries in this batch; 1648: the
				 * sealed snapshot's files, 1 kept / 0 */
	uint8_t more;           /* 1642: 1 = ask again after the last id */
	uint16_t refused_code;  /* 1649: the request refused */
	uint16_t error;         /* 1649: enum v3x_error */
	/* 1041/1043: the device (a v3 client name); 1044-1047/1641 and a
	 * 1049 keep: the v3 file name (a seal: ""); 1048: the trace id.
	 * NUL-terminated. */
	char name[V3_NAME_FIELD];
	/* 1643: the file's bytes (borrowed; NULL after a head-only parse,
	 * data_len then says how many follow). */
	const uint8_t *data;
	size_t data_len;
};

/* 1 if the 23-byte request header hdr carries version 4 and a code of the
 * extension (1040-1049): the server hands it to v3x_req_hdr_parse
 * instead of v3_req_hdr_parse_ext. */
int v3x_req_is_ext(const uint8_t hdr[V3_REQ_HDR_SIZE]);
/* The same for a 7-byte response header (codes 1640-1649). */
int v3x_resp_is_ext(const uint8_t hdr[V3_RESP_HDR_SIZE]);

/* Request header from exactly V3_REQ_HDR_SIZE bytes: version 4
 * (V3_E_VERSION), a known code (V3_E_CODE), the exact payload size of
 * its layout (V3_E_SIZE_LAYOUT).  @retval 0  @retval -EBADMSG */
int v3x_req_hdr_parse(struct v3x_msg *m, const uint8_t *buf, size_t len,
		      enum v3_reason *why);
/* Payload of the request whose header m holds; len = payload_size.
 * Checks names (device: client-name rule; 1044: file-name rule; 1048:
 * the trace id rule, V3_E_FIELD) and ranges (V3_E_FIELD).  @retval 0  @retval -EBADMSG */
int v3x_req_payload_parse(struct v3x_msg *m, const uint8_t *buf, size_t len,
			  enum v3_reason *why);
/* Whole request in buf.  @retval bytes used  @retval -EAGAIN more needed
 * @retval -EBADMSG */
int v3x_req_decode(struct v3x_msg *m, const uint8_t *buf, size_t len,
		   enum v3_reason *why);
/* Packs request m (code and its fields) with a zero client id.
 * @retval length  @retval -ENOSPC  @retval -EINVAL m breaks a rule */
int v3x_req_pack(uint8_t *out, size_t cap, const struct v3x_msg *m,
		 enum v3_reason *why);

/* Response header from exactly V3_RESP_HDR_SIZE bytes: version 4, a
 * known code, a payload size its layout allows (1641: 42..291, 1643:
 * 20..20 + V3X_CHUNK_MAX).  @retval 0  @retval -EBADMSG */
int v3x_resp_hdr_parse(struct v3x_msg *m, const uint8_t *buf, size_t len,
		       enum v3_reason *why);
/* Payload of the response whose header m holds.  For 1643, len may be
 * V3X_DATA_HEAD only (head-only parse: data NULL, data_len = the bytes
 * that follow) or the whole payload (data borrowed).
 * @retval 0  @retval -EBADMSG */
int v3x_resp_payload_parse(struct v3x_msg *m, const uint8_t *buf,
			   size_t len, enum v3_reason *why);
/* Whole response in buf.  @retval bytes used  @retval -EAGAIN
 * @retval -EBADMSG */
int v3x_resp_decode(struct v3x_msg *m, const uint8_t *buf, size_t len,
		    enum v3_reason *why);
/* Packs response m.  For 1643 the data (data_len bytes) is copied when
 * data is not NULL; with data NULL only the header and the 20-byte head
 * are written (payload size still counts data_len), so a server can send
 * the bytes from its own buffer.  @retval length  @retval -ENOSPC
 * @retval -EINVAL */
int v3x_resp_pack(uint8_t *out, size_t cap, const struct v3x_msg *m,
		  enum v3_reason *why);

#endif
