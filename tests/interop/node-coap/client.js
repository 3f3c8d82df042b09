// tests/interop/node-coap/client.js — node-coap as a plain client:
//   node client.js get URL             prints the payload (hex) and code
//   node client.js observe URL N       prints the code, the Observe value
//                                      and the payload length of N
//                                      notifications, one JSON per line
// No option beyond the URL: what a new user of node-coap would send.
'use strict';
const coap = require('coap');
const [mode, url, count] = process.argv.slice(2);
const u = new URL(url);
const req = coap.request({
    hostname: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port) || 5683,
    pathname: u.pathname, observe: mode === 'observe'
});
req.on('error', e => { console.error('error:', e.message); process.exit(2); });
req.on('response', res => {
    if (mode === 'get') {
        console.log(JSON.stringify({ code: res.code, hex: res.payload.toString('hex') }));
        process.exit(0);
    }
    let seen = 0;
    const one = (payload) => {
        console.log(JSON.stringify({ code: res.code, observe: res.headers.Observe,
                                     len: payload.length }));
        if (++seen >= Number(count)) { res.close(); process.exit(0); }
    };
    res.on('data', one);
});
req.end();
