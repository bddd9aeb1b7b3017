// Runs codeql-action's hash() (src/fingerprints.ts, types stripped) on tricky
// inputs and prints them with their hashes, inputs in base64.
const {hash}=require("./oracle.js");const fs=require("fs");
const cases=[
 ["invalid: lone continuation", Buffer.from([0x61,0x80,0x62,0x0a])],
 ["invalid: truncated 3-byte sequence", Buffer.from([0x61,0xe2,0x82,0x62,0x0a,0x63])],
 ["invalid: truncated 4-byte at EOF", Buffer.from([0x61,0x0a,0xf0,0x9f,0x98])],
 ["invalid: surrogate encoded in UTF-8", Buffer.from([0xed,0xa0,0x80,0x0a,0x78])],
 ["invalid: overlong and out of range", Buffer.from([0xc0,0xaf,0xe0,0x80,0xaf,0xf4,0x90,0x80,0x80,0xf5,0xff,0x0a])],
 ["BOM kept", Buffer.from("\ufeffpackage main\n","utf8")],
 ["astral: two code units", Buffer.from("a😀b\n𝒳 = 1\n","utf8")],
 ["U+FFFF in the text, like the EOF sentinel", Buffer.from("x\uffffy\n","utf8")],
 ["CR at the end", Buffer.from("a\r","utf8")],
 ["lone CRs and CRLF mixed", Buffer.from("a\r\rb\r\n\nc","utf8")],
 ["line longer than the window", Buffer.from("x".repeat(150)+"\n"+"y".repeat(99)+"\nz\n","utf8")],
 ["only whitespace", Buffer.from("   \t \n\t\t\n  ","utf8")],
 ["NUL characters", Buffer.from("a\u0000b\n\u0000\n","utf8")],
 ["multibyte across the 64 KiB read chunk", [[Buffer.from("é","utf8"),32767],[Buffer.from("a€\n日本\n","utf8"),1]]],
 ["invalid across the 64 KiB read chunk", [[Buffer.from("a"),65535],[Buffer.from([0xe2,0x82,0x0a,0x62]),1]]],
 ["many lines: occurrence counts", [[Buffer.from("}\n"),300],[Buffer.from("end\n"),1]]],
];
(async()=>{const out=[];for(const [name,c] of cases){const parts=Buffer.isBuffer(c)?[[c,1]]:c;const buf=Buffer.concat(parts.map(([b,n])=>Buffer.concat(Array(n).fill(b))));fs.writeFileSync("case.bin",buf);const hs=[];await hash((l,h)=>{if(l!==hs.length+1)throw new Error("order");hs.push(h)},"case.bin");out.push({name,parts:parts.map(([b,n])=>({base64:b.toString("base64"),repeat:n})),expected:hs});}
fs.writeFileSync("node-vectors.json",JSON.stringify({generator:"codeql-action src/fingerprints.ts hash() on "+process.version,cases:out},null,1)+"\n");console.log(out.length);})();
