// The browser side of Runable's UI: the theme, following a live trajectory, packing and uploading workspaces, and the
// desktop (noVNC) and terminal (xterm.js) views. Box routes are reached through the orchestrator's proxy on this origin,
// with the session cookie; nothing here ever sees the key.

const encoder = new TextEncoder();

// ---- Theme ----------------------------------------------------------------------------------------------------------

export function toggleTheme() {
    const root = document.documentElement;
    const current = root.dataset.theme || (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light');
    const next = current === 'dark' ? 'light' : 'dark';
    root.dataset.theme = next;
    try { localStorage.setItem('runable-theme', next); } catch { /* private mode: the choice lasts for this page */ }
}

// ---- Following the trajectory ---------------------------------------------------------------------------------------

// Keeps the newest event in view while the reader is at the end of the page; a reader who scrolled up stays put.
export function followTail(list) {
    const nearEnd = () => window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 200;
    let following = nearEnd();
    const onScroll = () => { following = nearEnd(); };
    addEventListener('scroll', onScroll, { passive: true });
    const observer = new MutationObserver(() => {
        if (!list.isConnected) {
            observer.disconnect();
            removeEventListener('scroll', onScroll);
            return;
        }
        if (following && list.offsetParent !== null) {
            window.scrollTo({ top: document.documentElement.scrollHeight });
        }
    });
    observer.observe(list, { childList: true, subtree: true });
}

// ---- Workspace uploads ----------------------------------------------------------------------------------------------

// Packs the chosen folder (or converts a zip) into a tar.gz and uploads it to /v1/uploads; resolves to the upload's id.
export async function uploadWorkspace(input, kind, dotnet) {
    const report = throttled((phase, done, total) => dotnet.invokeMethodAsync('UploadProgress', phase, done, total));
    const files = Array.from(input.files || []);
    if (files.length === 0) {
        throw new Error(kind === 'folder'
            ? 'Choose a folder to upload first.'
            : 'Choose an archive to upload first (.zip, .tar.gz or .tgz).');
    }

    let archive;
    if (kind === 'folder') {
        archive = await gzip(tarOf(folderEntries(files)), report, 'Packing the folder');
    } else {
        const file = files[0];
        const name = file.name.toLowerCase();
        if (name.endsWith('.tar.gz') || name.endsWith('.tgz')) {
            archive = file;
        } else if (name.endsWith('.zip')) {
            archive = await gzip(tarOf(await zipEntries(file, report)), report, 'Converting the zip');
        } else {
            throw new Error(`"${file.name}" is not a .zip, .tar.gz or .tgz archive: choose one of those, or upload its folder instead.`);
        }
    }

    report.now('Uploading', 0, archive.size);
    return await post('/v1/uploads', archive, report);
}

function throttled(send) {
    let last = 0;
    const report = (phase, done, total) => {
        const now = performance.now();
        if (now - last >= 120) {
            last = now;
            send(phase, done, total);
        }
    };
    report.now = (phase, done, total) => { last = performance.now(); send(phase, done, total); };
    return report;
}

// The selected folder's files, named relative to the folder itself (its contents become /workspace).
function folderEntries(files) {
    return files.map(file => {
        const relative = (file.webkitRelativePath || file.name).split('/').slice(1).join('/') || file.name;
        return { name: relative, type: '0', data: file, size: file.size, mode: 0o644, mtime: file.lastModified / 1000 };
    });
}

// A tar archive (POSIX ustar, with PAX records for long names) of the entries, as a Blob: files are read when streamed.
function tarOf(entries) {
    const parts = [];
    for (const entry of entries) {
        const size = entry.type === '0' ? entry.size : 0;
        parts.push(...headers(entry.name, size, entry.type, entry.mode, entry.mtime, entry.linkname || ''));
        if (size > 0) {
            parts.push(entry.data);
            parts.push(new Uint8Array((512 - (size % 512)) % 512));
        }
    }
    parts.push(new Uint8Array(1024));
    return new Blob(parts);
}

function headers(name, size, type, mode, mtime, linkname) {
    const parts = [];
    const records = [];
    if (encoder.encode(name).length > 100) {
        records.push(paxRecord('path', name));
    }
    if (encoder.encode(linkname).length > 100) {
        records.push(paxRecord('linkpath', linkname));
    }
    if (records.length > 0) {
        const data = encoder.encode(records.join(''));
        parts.push(header('PaxHeader/' + shortName(name), data.length, 'x', 0o644, mtime, ''), data, new Uint8Array((512 - (data.length % 512)) % 512));
    }
    parts.push(header(shortName(name), size, type, mode, mtime, shortName(linkname)));
    return parts;
}

// "<length> key=value\n", where the length counts its own digits.
function paxRecord(key, value) {
    const body = ` ${key}=${value}\n`;
    const base = encoder.encode(body).length;
    let length = base + String(base).length;
    if (String(length).length !== String(base).length) {
        length = base + String(length).length;
    }
    return `${length}${body}`;
}

// The last 100 bytes' worth of a name, on a character boundary (the PAX record carries the whole).
function shortName(name) {
    let short = name;
    while (encoder.encode(short).length > 100) {
        short = short.slice(1);
    }
    return short;
}

function header(name, size, type, mode, mtime, linkname) {
    const block = new Uint8Array(512);
    const put = (text, offset, length) => block.set(encoder.encode(text).subarray(0, length), offset);
    const octal = (value, offset, length) => put(Math.floor(value).toString(8).padStart(length - 1, '0') + '\0', offset, length);
    put(name, 0, 100);
    octal(mode, 100, 8);
    octal(1000, 108, 8);
    octal(1000, 116, 8);
    octal(size, 124, 12);
    octal(Math.max(0, mtime), 136, 12);
    block.fill(32, 148, 156);
    block[156] = type.charCodeAt(0);
    put(linkname, 157, 100);
    put('ustar\0', 257, 6);
    put('00', 263, 2);
    let sum = 0;
    for (const byte of block) {
        sum += byte;
    }
    put(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
    return block;
}

// Compresses a Blob with the browser's gzip, reporting how much of the input was read.
async function gzip(blob, report, phase) {
    let read = 0;
    const counter = new TransformStream({
        transform(chunk, controller) {
            read += chunk.byteLength;
            report(phase, read, blob.size);
            controller.enqueue(chunk);
        },
    });
    const compressed = await new Response(blob.stream().pipeThrough(counter).pipeThrough(new CompressionStream('gzip'))).blob();
    report.now(phase, blob.size, blob.size);
    return new Blob([compressed], { type: 'application/gzip' });
}

// The entries of a zip file, inflated in the browser; a single top folder shared by every entry is taken off.
async function zipEntries(file, report) {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let end = -1;
    for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 65535); i--) {
        if (view.getUint32(i, true) === 0x06054b50) {
            end = i;
            break;
        }
    }
    if (end < 0) {
        throw new Error(`"${file.name}" is not a readable zip file (no central directory). Check the file, or upload a .tar.gz instead.`);
    }
    const count = view.getUint16(end + 10, true);
    let offset = view.getUint32(end + 16, true);
    if (count === 0xffff || offset === 0xffffffff) {
        throw new Error(`"${file.name}" is a zip64 archive, which cannot be unpacked here: upload it as .tar.gz instead.`);
    }

    const decoder = new TextDecoder();
    const listed = [];
    for (let i = 0; i < count; i++) {
        if (view.getUint32(offset, true) !== 0x02014b50) {
            throw new Error(`"${file.name}" has a damaged central directory; upload a .tar.gz instead.`);
        }
        const flags = view.getUint16(offset + 8, true);
        const method = view.getUint16(offset + 10, true);
        const compressedSize = view.getUint32(offset + 20, true);
        const nameLength = view.getUint16(offset + 28, true);
        const extraLength = view.getUint16(offset + 30, true);
        const commentLength = view.getUint16(offset + 32, true);
        const unixMode = view.getUint32(offset + 38, true) >>> 16;
        const local = view.getUint32(offset + 42, true);
        const name = decoder.decode(bytes.subarray(offset + 46, offset + 46 + nameLength));
        listed.push({ name, flags, method, compressedSize, unixMode, local });
        offset += 46 + nameLength + extraLength + commentLength;
    }

    const names = listed.map(e => e.name).filter(n => n.length > 0);
    const top = names.length > 0 && names.every(n => n.includes('/')) ? names[0].split('/')[0] + '/' : null;
    const strip = top !== null && names.every(n => n.startsWith(top)) ? top.length : 0;

    const entries = [];
    const mtime = file.lastModified / 1000;
    let done = 0;
    for (const entry of listed) {
        const name = entry.name.slice(strip);
        done += entry.compressedSize;
        report('Converting the zip', done, bytes.length);
        if (name.length === 0) {
            continue;
        }
        if (entry.flags & 1) {
            throw new Error(`"${entry.name}" in the zip is encrypted; upload an unencrypted archive.`);
        }
        if (name.endsWith('/')) {
            entries.push({ name: name.slice(0, -1), type: '5', size: 0, mode: 0o755, mtime });
            continue;
        }
        const start = entry.local + 30 + view.getUint16(entry.local + 26, true) + view.getUint16(entry.local + 28, true);
        const packed = bytes.subarray(start, start + entry.compressedSize);
        let data;
        if (entry.method === 0) {
            data = packed;
        } else if (entry.method === 8) {
            data = new Uint8Array(await new Response(new Blob([packed]).stream().pipeThrough(new DecompressionStream('deflate-raw'))).arrayBuffer());
        } else {
            throw new Error(`"${entry.name}" in the zip uses compression method ${entry.method}, which cannot be unpacked here; upload a .tar.gz instead.`);
        }
        const type = (entry.unixMode & 0xf000) === 0xa000 ? '2' : '0';
        const mode = (entry.unixMode & 0o777) || 0o644;
        if (type === '2') {
            entries.push({ name, type, size: 0, mode, mtime, linkname: decoder.decode(data) });
        } else {
            entries.push({ name, type, data: new Blob([data]), size: data.length, mode, mtime });
        }
    }
    return entries;
}

function post(url, body, report) {
    return new Promise((resolve, reject) => {
        const request = new XMLHttpRequest();
        request.open('POST', url);
        request.setRequestHeader('Content-Type', 'application/gzip');
        request.upload.onprogress = e => report('Uploading', e.loaded, e.lengthComputable ? e.total : body.size);
        request.onload = () => {
            let answer = null;
            try { answer = JSON.parse(request.responseText); } catch { /* not JSON: the status says enough */ }
            if (request.status === 200 || request.status === 201) {
                report.now('Uploaded', body.size, body.size);
                resolve(answer.id);
            } else {
                reject(new Error((answer && answer.detail) || `The upload was refused (HTTP ${request.status}).`));
            }
        };
        request.onerror = () => reject(new Error('The upload failed: the connection to the orchestrator broke. Check that it runs, then try again.'));
        request.send(body);
    });
}

// ---- Desktop and terminal -------------------------------------------------------------------------------------------

function socketUrl(path) {
    return (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + path;
}

// noVNC on the box's /desktop/vnc; view-only sessions are also enforced by the box itself (?view_only=true).
export async function desktopConnect(target, path, viewOnly, dotnet) {
    const { default: RFB } = await import('./lib/novnc/core/rfb.js');
    let current = null;
    const connect = only => {
        const rfb = new RFB(target, socketUrl(path + (only ? '?view_only=true' : '')), { wsProtocols: ['binary'] });
        rfb.viewOnly = only;
        rfb.scaleViewport = true;
        rfb.focusOnClick = !only;
        rfb.addEventListener('connect', () => {
            if (rfb === current) {
                dotnet.invokeMethodAsync('DesktopState', 'connected', null);
            }
        });
        rfb.addEventListener('disconnect', e => {
            if (rfb === current) {
                dotnet.invokeMethodAsync('DesktopState', 'disconnected', e.detail && e.detail.clean ? '' : 'the connection broke');
            }
        });
        rfb.addEventListener('securityfailure', e => {
            if (rfb === current) {
                dotnet.invokeMethodAsync('DesktopState', 'failed', 'The desktop refused the session: ' + ((e.detail && e.detail.reason) || 'no reason given'));
            }
        });
        current = rfb;
    };
    connect(viewOnly);
    return {
        setViewOnly(only) {
            const old = current;
            current = null;
            try { old.disconnect(); } catch { /* already closed */ }
            connect(only);
        },
        disconnect() {
            const old = current;
            current = null;
            try { old.disconnect(); } catch { /* already closed */ }
        },
    };
}

// xterm.js on the box's PTY WebSocket (/terminal): keystrokes out, screen in, and a resize message when the panel changes.
export async function terminalOpen(host, path, dotnet) {
    const [{ Terminal }, { FitAddon }] = await Promise.all([import('./lib/xterm/xterm.mjs'), import('./lib/xterm/addon-fit.mjs')]);
    const dark = document.documentElement.dataset.theme === 'dark'
        || (!document.documentElement.dataset.theme && matchMedia('(prefers-color-scheme: dark)').matches);
    const terminal = new Terminal({
        cursorBlink: true,
        scrollback: 5000,
        fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace',
        fontSize: 13,
        theme: dark ? { background: '#0d1117', foreground: '#e6edf3' } : { background: '#ffffff', foreground: '#1f2328', cursor: '#1f2328', selectionBackground: '#b6d7ff' },
    });
    const fit = new FitAddon();
    terminal.loadAddon(fit);
    terminal.open(host);
    try { fit.fit(); } catch { /* not laid out yet */ }

    const socket = new WebSocket(socketUrl(`${path}?cols=${terminal.cols}&rows=${terminal.rows}`));
    socket.binaryType = 'arraybuffer';
    let disposed = false;
    socket.onopen = () => {
        dotnet.invokeMethodAsync('TerminalState', 'open', null);
        terminal.focus();
    };
    socket.onmessage = e => terminal.write(typeof e.data === 'string' ? e.data : new Uint8Array(e.data));
    socket.onclose = e => {
        if (!disposed) {
            terminal.write('\r\n\x1b[2m[the shell ended]\x1b[0m\r\n');
            dotnet.invokeMethodAsync('TerminalState', 'closed', e.code === 1000 || e.code === 1005 ? '' : `code ${e.code}`);
        }
    };
    terminal.onData(data => {
        if (socket.readyState === WebSocket.OPEN) {
            socket.send(data);
        }
    });
    terminal.onResize(({ cols, rows }) => {
        if (socket.readyState === WebSocket.OPEN) {
            socket.send(JSON.stringify({ type: 'resize', cols, rows }));
        }
    });
    const resized = new ResizeObserver(() => { try { fit.fit(); } catch { /* hidden */ } });
    resized.observe(host);
    return {
        dispose() {
            disposed = true;
            resized.disconnect();
            try { socket.close(); } catch { /* already closed */ }
            terminal.dispose();
        },
        focus() { terminal.focus(); },
    };
}

// ---- Clipboard ------------------------------------------------------------------------------------------------------

export async function copyText(text) {
    try {
        await navigator.clipboard.writeText(text);
        return true;
    } catch {
        return false;
    }
}
