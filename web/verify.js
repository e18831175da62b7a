// Verify an evidence pack in the browser, trusting nothing the API says about it but the org's published key:
// the zip is read here (central directory, stored or deflated members via DecompressionStream), every member's
// sha256 is compared with the signed manifest's `files` list and with checksums.sha256, and manifest.sig (DER
// ECDSA P-256 over SHA-256 of manifest.json, what AWS KMS returns) is checked with WebCrypto. The same checks as
// `hetero2 verify --public-key` for a zip, in ~100 lines and no library.

const MANIFEST = "manifest.json", CHECKSUMS = "checksums.sha256", SIGNATURE = "manifest.sig";

const hex = (buffer) => [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");
export const sha256 = async (bytes) => hex(await crypto.subtle.digest("SHA-256", bytes));

function members(zip) {
  // The end-of-central-directory record is in the last 64 KiB + 22 bytes; walk the directory it points at.
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  let end = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 65557); i--) if (view.getUint32(i, true) === 0x06054b50) { end = i; break; }
  if (end < 0) throw new Error("not a zip file (no end of central directory)");
  const count = view.getUint16(end + 10, true);
  let at = view.getUint32(end + 16, true);
  const found = new Map();
  const names = new TextDecoder();
  for (let n = 0; n < count; n++) {
    if (view.getUint32(at, true) !== 0x02014b50) throw new Error("damaged zip central directory");
    const method = view.getUint16(at + 10, true), size = view.getUint32(at + 20, true);
    const nameLength = view.getUint16(at + 28, true), extra = view.getUint16(at + 30, true), comment = view.getUint16(at + 32, true);
    const local = view.getUint32(at + 42, true);
    const name = names.decode(zip.subarray(at + 46, at + 46 + nameLength));
    if (view.getUint32(local, true) !== 0x04034b50) throw new Error(`damaged zip entry ${name}`);
    const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    found.set(name, { method, data: zip.subarray(start, start + size) });
    at += 46 + nameLength + extra + comment;
  }
  return found;
}

async function content(entry) {
  if (entry.method === 0) return entry.data;
  if (entry.method !== 8) throw new Error(`zip compression method ${entry.method} is not supported`);
  const stream = new Blob([entry.data]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function derToRaw(der) {
  // SEQUENCE { INTEGER r, INTEGER s } → r || s, 32 bytes each (WebCrypto's ECDSA takes the IEEE P1363 form).
  let at = 2 + (der[1] & 0x80 ? der[1] & 0x7f : 0);
  const part = () => {
    if (der[at] !== 0x02) throw new Error("manifest.sig is not a DER ECDSA signature");
    const length = der[at + 1];
    let value = der.subarray(at + 2, at + 2 + length);
    at += 2 + length;
    while (value.length > 32 && value[0] === 0) value = value.subarray(1);
    const out = new Uint8Array(32);
    out.set(value, 32 - value.length);
    return out;
  };
  const r = part(), s = part();
  return new Uint8Array([...r, ...s]);
}

async function importKey(pem) {
  const body = pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
  const der = Uint8Array.from(atob(body), (c) => c.charCodeAt(0));
  return crypto.subtle.importKey("spki", der, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
}

// A sliced member (hetero_manifest.v2, docs/pack-format.md): consecutive byte ranges, each with its own sha256,
// that add up to the member's size. Names the first slice that differs, as `hetero2 verify` does.
async function checkSlices(file, bytes) {
  if (bytes.length !== file.size) throw new Error(`${file.path}: ${bytes.length} bytes, the signed manifest says ${file.size}`);
  let offset = 0;
  for (const [index, slice] of file.slices.entries()) {
    const part = bytes.subarray(offset, offset + slice.size);
    if (part.length !== slice.size || (await sha256(part)) !== slice.sha256) {
      throw new Error(`${file.path}: slice ${index} (bytes ${offset}..${offset + slice.size}) differs from the signed manifest`);
    }
    offset += slice.size;
  }
  if (offset !== bytes.length) throw new Error(`${file.path}: its slices cover ${offset} of ${bytes.length} bytes`);
}

// What was checked, or an Error naming the first thing that failed. `expectedZipSha256` is the job record's.
export async function verifyPack(zipBytes, publicKeyPem, expectedZipSha256) {
  const zip = new Uint8Array(zipBytes);
  const zipSha256 = await sha256(zip);
  if (expectedZipSha256 && zipSha256 !== expectedZipSha256) throw new Error(`the zip's sha256 ${zipSha256} is not the one the service recorded`);
  const entries = members(zip);
  const files = new Map();
  for (const [name, entry] of entries) files.set(name, await content(entry));
  for (const required of [MANIFEST, CHECKSUMS, SIGNATURE]) if (!files.has(required)) throw new Error(`${required} is missing from the pack`);
  const signed = await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, await importKey(publicKeyPem),
    derToRaw(files.get(SIGNATURE)), files.get(MANIFEST));
  if (!signed) throw new Error("manifest.sig does not verify with the org's published public key");
  const manifest = JSON.parse(new TextDecoder().decode(files.get(MANIFEST)));
  const digests = new Map();
  for (const [name, bytes] of files) digests.set(name, await sha256(bytes));
  for (const file of manifest.files || []) {
    if (!digests.has(file.path)) throw new Error(`${file.path} is listed in the manifest but missing from the pack`);
    if (file.slices) await checkSlices(file, files.get(file.path));  // hetero_manifest.v2: the CSV members
    else if (digests.get(file.path) !== file.sha256) throw new Error(`${file.path}: sha256 differs from the signed manifest`);
  }
  const lines = new TextDecoder().decode(files.get(CHECKSUMS)).split("\n").filter(Boolean);
  for (const line of lines) {
    const [digest, path] = [line.slice(0, 64), line.slice(66)];
    if (digests.get(path) !== digest) throw new Error(`${path}: sha256 differs from checksums.sha256`);
  }
  return { zipSha256, members: entries.size, manifestFiles: (manifest.files || []).length, checksums: lines.length };
}
