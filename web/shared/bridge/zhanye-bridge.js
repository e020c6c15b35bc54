// zhanye-bridge.js: the web app's side of the peripherals bridge
// (docs/peripherals.md, "The web app's module"). An ES module with no
// dependencies: it finds zhanye-bridge on 127.0.0.1, pairs with its token and
// offers the device operations. Every failure is a BridgeError with `code`
// (the bridge's error code, or no_bridge / unpaired / network), a Simplified
// Chinese `message` for the client manager, and `manualAllowed` (true where
// the page may offer manual entry instead: the ID-card and bank-card reads).

export const DEFAULT_BASE = "http://127.0.0.1:19300";
export const DEFAULT_PORTS = [19300];

const MESSAGES = {
  no_bridge: "未找到外设服务，请确认外设程序已启动",
  unpaired: "尚未与外设服务配对，请输入配对令牌",
  network: "与外设服务通信失败，请重试",
};

export class BridgeError extends Error {
  constructor(code, message, { status = 0, manualAllowed = false } = {}) {
    super(message || MESSAGES[code] || "外设操作失败");
    this.name = "BridgeError";
    this.code = code;
    this.status = status;
    this.manualAllowed = manualAllowed;
  }
}

// Feeds text chunks; calls onEvent(type, data) per complete SSE event.
function sseParser(onEvent) {
  let buf = "";
  let type = "message";
  let data = [];
  return (chunk) => {
    buf += chunk;
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      let line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.endsWith("\r")) line = line.slice(0, -1);
      if (line === "") {
        if (data.length) {
          const text = data.join("\n");
          let parsed;
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = text;
          }
          onEvent(type, parsed);
        }
        type = "message";
        data = [];
      } else if (line.startsWith(":")) {
        // comment (ping)
      } else {
        const c = line.indexOf(":");
        const field = c < 0 ? line : line.slice(0, c);
        let value = c < 0 ? "" : line.slice(c + 1);
        if (value.startsWith(" ")) value = value.slice(1);
        if (field === "event") type = value;
        else if (field === "data") data.push(value);
      }
    }
  };
}

export function createBridge(opts = {}) {
  let base = (opts.base || DEFAULT_BASE).replace(/\/+$/, "");
  let token = opts.token || "";
  const doFetch = opts.fetch || globalThis.fetch.bind(globalThis);
  const ports = opts.ports || DEFAULT_PORTS;
  const findTimeoutMs = opts.findTimeoutMs || 1500;
  const timeoutMs = opts.timeoutMs || 10000;

  const listeners = new Map(); // type -> Set(cb)
  let stream = null; // {abort, ready}

  function emit(type, data) {
    for (const key of [type, "*"]) {
      const set = listeners.get(key);
      if (set) for (const cb of [...set]) cb(data, type);
    }
  }

  async function request(method, path, body, { ms = timeoutMs, manual = false, at = base, tok = token } = {}) {
    if (!tok) throw new BridgeError("unpaired", null, { manualAllowed: manual });
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), ms);
    let res;
    try {
      res = await doFetch(at + path, {
        method,
        headers: {
          Authorization: "Bearer " + tok,
          ...(body !== undefined ? { "Content-Type": "application/json" } : {}),
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        signal: ctl.signal,
      });
    } catch (e) {
      clearTimeout(timer);
      const code = ctl.signal.aborted ? "network" : "no_bridge";
      throw new BridgeError(code, null, { manualAllowed: manual });
    }
    let json;
    try {
      json = await res.json();
    } catch {
      json = null;
    } finally {
      clearTimeout(timer);
    }
    if (res.status === 401)
      throw new BridgeError("unpaired", null, { status: 401, manualAllowed: manual });
    if (!res.ok || !json) {
      const code = (json && json.error) || "network";
      throw new BridgeError(code, json && json.message, { status: res.status, manualAllowed: manual });
    }
    return json;
  }

  // Probe one base for /v1/health: {found, paired, devices} or null.
  async function probe(at) {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), findTimeoutMs);
    try {
      const res = await doFetch(at + "/v1/health", {
        headers: token ? { Authorization: "Bearer " + token } : {},
        signal: ctl.signal,
      });
      const json = await res.json().catch(() => null);
      if (res.status === 401) return { found: true, paired: false, base: at, devices: [] };
      if (res.ok && json && json.status === "ok")
        return { found: true, paired: true, base: at, devices: json.devices || [] };
      return null;
    } catch {
      return null;
    } finally {
      clearTimeout(timer);
    }
  }

  function startStream() {
    if (stream) return stream.ready;
    const ctl = new AbortController();
    let readyResolve, readyReject;
    const ready = new Promise((res, rej) => {
      readyResolve = res;
      readyReject = rej;
    });
    ready.catch(() => {});
    stream = { abort: () => ctl.abort(), ready };
    const me = stream;
    (async () => {
      try {
        if (!token) throw new BridgeError("unpaired");
        const res = await doFetch(base + "/v1/events", {
          headers: { Authorization: "Bearer " + token, Accept: "text/event-stream" },
          signal: ctl.signal,
        });
        if (res.status === 401) throw new BridgeError("unpaired", null, { status: 401 });
        if (!res.ok || !res.body) throw new BridgeError("network", null, { status: res.status });
        const reader = res.body.getReader();
        const dec = new TextDecoder();
        const feed = sseParser((type, data) => {
          if (type === "hello") readyResolve(data);
          emit(type, data);
        });
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          feed(dec.decode(value, { stream: true }));
        }
        throw new BridgeError("network");
      } catch (e) {
        const err =
          e instanceof BridgeError ? e : new BridgeError(ctl.signal.aborted ? "network" : "no_bridge");
        readyReject(err);
        if (!ctl.signal.aborted) emit("error", err);
      } finally {
        if (stream === me) stream = null;
      }
    })();
    return ready;
  }

  function stopStreamIfIdle() {
    let n = 0;
    for (const set of listeners.values()) n += set.size;
    if (n === 0 && stream) {
      stream.abort();
      stream = null;
    }
  }

  // Subscribes cb(data, type) to the bridge's events of `type` ("*": all;
  // "error": the stream broke, with a BridgeError). Returns the unsubscriber.
  function onEvent(type, cb) {
    if (!listeners.has(type)) listeners.set(type, new Set());
    listeners.get(type).add(cb);
    startStream();
    return () => {
      listeners.get(type)?.delete(cb);
      stopStreamIfIdle();
    };
  }

  return {
    get base() {
      return base;
    },
    get paired() {
      return !!token;
    },

    // Looks for the bridge at the configured base, then the default ports.
    // {found, paired, base, devices}; found false when none answers.
    async find() {
      const cands = [base, ...ports.map((p) => `http://127.0.0.1:${p}`)];
      for (const at of [...new Set(cands)]) {
        const r = await probe(at);
        if (r) {
          base = at;
          return r;
        }
      }
      return { found: false, paired: false, base: null, devices: [] };
    },

    // Checks the token against the bridge and keeps it for this object.
    // The caller stores it (docs/peripherals.md). Answers the health devices.
    async pair(newToken) {
      const t = String(newToken || "").trim();
      const h = await request("GET", "/v1/health", undefined, { tok: t });
      token = t;
      if (stream) {
        stream.abort();
        stream = null;
        if (listeners.size) startStream();
      }
      return { devices: h.devices || [] };
    },

    unpair() {
      token = "";
      if (stream) stream.abort();
      stream = null;
    },

    readIdCard() {
      return request("GET", "/v1/idcard", undefined, { manual: true });
    },

    readBankCard() {
      return request("GET", "/v1/bankcard", undefined, { manual: true, ms: 30000 });
    },

    // The PIN block ({pin_block, format}) the pad encrypted for `pan`.
    enterPin(pan, { min, max, timeoutS = 30 } = {}) {
      const body = { pan: String(pan), timeout_s: timeoutS };
      if (min !== undefined) body.min = min;
      if (max !== undefined) body.max = max;
      return request("POST", "/v1/pin", body, { ms: (timeoutS + 5) * 1000 });
    },

    // The customer signs on the pad; onStroke(points) per signature.stroke
    // event ([[stroke,x,y,pressure,t_ms],...]), onClear() per
    // signature.clear. Resolves with {png (base64), strokes}.
    async captureSignature({ width, height, timeoutS = 60, onStroke, onClear } = {}) {
      if (!token) throw new BridgeError("unpaired");
      let seen = 0;
      let wake = null;
      const stroke = (d) => {
        seen += (d.points || []).length;
        if (onStroke) onStroke(d.points || []);
        if (wake) wake();
      };
      const clear = () => {
        seen = 0;
        if (onClear) onClear();
      };
      const offs = [onEvent("signature.stroke", stroke), onEvent("signature.clear", clear)];
      try {
        try {
          await startStream();
        } catch (e) {
          throw e instanceof BridgeError ? e : new BridgeError("network");
        }
        const r = await request(
          "POST",
          "/v1/signature",
          { width, height, timeout_s: timeoutS },
          { ms: (timeoutS + 5) * 1000 },
        );
        // Every stroke event is posted before the answer: wait until the
        // stream has delivered as many points as the answer holds.
        const want = ((r.strokes && r.strokes.strokes) || []).reduce((n, s) => n + s.length, 0);
        const until = Date.now() + 3000;
        while (seen < want && Date.now() < until)
          await new Promise((res) => {
            wake = res;
            setTimeout(res, 100);
          });
        return r;
      } finally {
        offs.forEach((off) => off());
      }
    },

    onEvent,
  };
}
