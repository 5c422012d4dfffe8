// A test SMSC for the SMPP gateway's tests and benchmark, built on node-smpp's
// server (npm "smpp": an SMPP 3.4 implementation independent of the Python
// client library the gateway uses).  It behaves like a carrier:
//
// - binds (transceiver, transmitter, receiver) checked against system_id and
//   password (ESME_RINVPASWD / ESME_RINVSYSID otherwise), answers enquire_link
//   and unbind;
// - submit_sm: answered with a message id, or an error by the recipient's last
//   digits ("1111" permanent ESME_RINVDSTADR, "2222" temporary
//   ESME_RMSGQFUL), or ESME_RTHROTTLED above `throttle_per_second`; one part
//   of concatenated texts refused with `part_error` ({"part": N, "status": S,
//   "times": K, "dest": suffix}: part N — counted from 1 — of texts to numbers
//   ending in `dest`, K times, or every time without `times`);
// - delivery reports (deliver_sm, esm_class 0x04, "id:… stat:…" text plus the
//   receipted_message_id and message_state TLVs) are queued per system_id and
//   handed to any bound receiver; reports not acknowledged when a link closes
//   are handed out again on the next bind (store and forward, as carriers do);
// - every submit_sm is appended to a JSON-lines log (one line per PDU: the
//   tests count them per message).
//
// Started with one JSON argument (config); prints {"port": N} once listening on
// 127.0.0.1 (port 0 = a free one).  Commands, one JSON object per stdin line:
//   {"cmd": "set", ...config}           change the config
//   {"cmd": "drop"}                     destroy every link at once
//   {"cmd": "drop_after", "n": K}       answer K more submit_sm, then take the
//                                       next ones without answering and destroy
//                                       the link 100 ms later (kept: reported)
//   {"cmd": "mo", "from", "to", "text"} an incoming message (deliver_sm)
//   {"cmd": "raw", "short_message", "receipted_message_id", "esm_class"}
//                                       a deliver_sm as given (malformed reports)
//   {"cmd": "stats"}                    prints {"stats": {...}}
"use strict";
const fs = require("fs");
const readline = require("readline");
const smpp = require("smpp");
const { PDU } = require("smpp/lib/pdu");

// Keep each submit_sm's body as it came (node-smpp decodes it): the log holds
// the octets the client sent.
const decodeFilter = PDU.prototype._filter;
PDU.prototype._filter = function (func) {
  if (func === "decode") {
    if (Buffer.isBuffer(this.short_message)) this.rawShortMessage = this.short_message;
    if (Buffer.isBuffer(this.message_payload)) this.rawPayload = this.message_payload;
  }
  return decodeFilter.call(this, func);
};

const config = Object.assign(
  {
    system_id: "cabinet",
    password: "secret",
    log: "",
    throttle_per_second: 0,
    dlr_delay_ms: 0,
    stat: "DELIVRD",
  },
  JSON.parse(process.argv[2] || "{}"),
);
const log = config.log ? fs.createWriteStream(config.log, { flags: "a" }) : null;
const stats = { binds: 0, refused: 0, submits: 0, accepted: 0, throttled: 0,
  rejected: 0, dlr_sent: 0, dlr_acked: 0, enquire_links: 0 };
const queues = {}; // system_id → [deliver_sm options]
const sessions = new Set();
let nextId = 1;
let dropAfter = -1;
let windowStart = Date.now();
let windowCount = 0;

function messageId() {
  return "S" + (nextId++).toString(16).padStart(8, "0");
}

function smscTime(d) {
  const p = (n) => String(n).padStart(2, "0");
  return (
    p(d.getUTCFullYear() % 100) + p(d.getUTCMonth() + 1) + p(d.getUTCDate()) +
    p(d.getUTCHours()) + p(d.getUTCMinutes())
  );
}

function receiving(s) {
  return s.bound && (s.mode === "bind_transceiver" || s.mode === "bind_receiver");
}

function pump(systemId) {
  const q = queues[systemId];
  if (!q || !q.length) return;
  const targets = [...sessions].filter((s) => receiving(s) && s.systemId === systemId);
  if (!targets.length) return;
  let i = 0;
  while (q.length) {
    const item = q.shift();
    const s = targets[i++ % targets.length];
    sendDeliver(s, item);
  }
}

function sendDeliver(s, item) {
  const seqKey = {};
  s.unacked.add(item);
  stats.dlr_sent++;
  const ok = s.deliver_sm(Object.assign({}, item), (resp) => {
    s.unacked.delete(item);
    if (resp.command_status === 0) stats.dlr_acked++;
  });
  if (!ok) {
    s.unacked.delete(item);
    enqueue(s.systemId, item);
  }
  return seqKey;
}

function enqueue(systemId, item) {
  (queues[systemId] = queues[systemId] || []).push(item);
  setImmediate(() => pump(systemId));
}

function report(systemId, pdu, id, text) {
  if (!(pdu.registered_delivery & 1)) return;
  const tail = String(pdu.destination_addr).slice(-4);
  const stat = tail === "0000" || tail === "0001" ? "UNDELIV" : config.stat;
  const err = stat === "DELIVRD" ? "000" : "001";
  const now = smscTime(new Date());
  const item = {
    source_addr_ton: pdu.dest_addr_ton,
    source_addr_npi: pdu.dest_addr_npi,
    source_addr: pdu.destination_addr,
    dest_addr_ton: pdu.source_addr_ton,
    dest_addr_npi: pdu.source_addr_npi,
    destination_addr: pdu.source_addr,
    esm_class: 0x04,
    data_coding: 0,
    short_message: Buffer.from(
      `id:${id} sub:001 dlvrd:${stat === "DELIVRD" ? "001" : "000"} ` +
        `submit date:${now} done date:${now} stat:${stat} err:${err} ` +
        `text:${(text || "").slice(0, 20).replace(/[^\x20-\x7e]/g, "?")}`,
      "latin1",
    ),
    receipted_message_id: id,
    message_state: stat === "DELIVRD" ? 2 : 5,
  };
  const deliver = () => enqueue(systemId, item);
  if (config.dlr_delay_ms) setTimeout(deliver, config.dlr_delay_ms);
  else deliver();
}

function bytesOf(v) {
  if (Buffer.isBuffer(v)) return v;
  if (v && Buffer.isBuffer(v.message)) return v.message;
  return Buffer.alloc(0);
}

function partRefused(pdu, record) {
  const rule = config.part_error;
  if (!rule || record.part !== rule.part) return false;
  if (rule.dest && !String(pdu.destination_addr).endsWith(rule.dest)) return false;
  if (rule.times === undefined) return true;
  if (rule.times <= 0) return false;
  rule.times--;
  return true;
}

function onSubmit(session, pdu) {
  stats.submits++;
  const raw = pdu.rawShortMessage || bytesOf(pdu.short_message);
  const payload = pdu.rawPayload || bytesOf(pdu.message_payload);
  const body = payload.length ? payload : raw;
  const record = {
    system_id: session.systemId,
    dest: pdu.destination_addr,
    src: pdu.source_addr,
    src_ton: pdu.source_addr_ton,
    src_npi: pdu.source_addr_npi,
    dc: pdu.data_coding,
    esm: pdu.esm_class,
    payload: payload.length > 0,
    hex: body.toString("hex"),
    seq: pdu.sequence_number,
  };
  const udh = (pdu.esm_class & 0x40) && raw.length >= 6 && raw[0] === 5;
  if (udh) {
    record.ref = raw[3];
    record.total = raw[4];
    record.part = raw[5];
  }
  if (dropAfter === 0) {
    // The link goes down with this submit taken but unanswered: the SMSC
    // keeps it (a carrier may well have accepted what it did not answer).
    const id = messageId();
    record.id = id;
    record.status = 0;
    record.unanswered = true;
    stats.accepted++;
    if (log) log.write(JSON.stringify(record) + "\n");
    report(session.systemId, pdu, id, "");
    if (!session.dropping) {
      session.dropping = true;
      setTimeout(() => {
        dropAfter = -1;
        session.destroy();
      }, 100);
    }
    return;
  }
  if (dropAfter > 0) dropAfter--;
  let status = 0;
  const now = Date.now();
  if (now - windowStart >= 1000) {
    windowStart = now;
    windowCount = 0;
  }
  const tail = String(pdu.destination_addr).slice(-4);
  if (config.throttle_per_second && windowCount >= config.throttle_per_second) {
    status = 0x58; // ESME_RTHROTTLED
    stats.throttled++;
  } else if (tail === "1111") {
    status = 0x0b; // ESME_RINVDSTADR: permanent
    stats.rejected++;
  } else if (tail === "2222") {
    status = 0x14; // ESME_RMSGQFUL: temporary
    stats.rejected++;
  } else if (partRefused(pdu, record)) {
    status = config.part_error.status;
    stats.rejected++;
  }
  if (status === 0) windowCount++;
  const id = status === 0 ? messageId() : "";
  record.id = id;
  record.status = status;
  if (log) log.write(JSON.stringify(record) + "\n");
  session.send(pdu.response({ command_status: status, message_id: id }));
  if (status === 0) {
    stats.accepted++;
    report(session.systemId, pdu, id, "");
  }
}

const server = smpp.createServer((session) => {
  session.bound = false;
  session.unacked = new Set();
  sessions.add(session);
  for (const mode of ["bind_transceiver", "bind_transmitter", "bind_receiver"]) {
    session.on(mode, (pdu) => {
      let status = 0;
      if (pdu.system_id !== config.system_id) status = 0x0f; // ESME_RINVSYSID
      else if (pdu.password !== config.password) status = 0x0e; // ESME_RINVPASWD
      session.send(pdu.response({ command_status: status, system_id: "testsmsc" }));
      if (status) {
        stats.refused++;
        setTimeout(() => session.close(), 50);
        return;
      }
      stats.binds++;
      session.bound = true;
      session.mode = mode;
      session.systemId = pdu.system_id;
      pump(session.systemId);
    });
  }
  session.on("submit_sm", (pdu) => {
    if (!session.bound || session.mode === "bind_receiver") {
      session.send(pdu.response({ command_status: 0x04 })); // ESME_RINVBNDSTS
      return;
    }
    onSubmit(session, pdu);
  });
  session.on("enquire_link", (pdu) => {
    stats.enquire_links++;
    session.send(pdu.response());
  });
  session.on("unbind", (pdu) => {
    session.send(pdu.response());
    session.bound = false;
    setTimeout(() => session.close(), 10);
  });
  session.on("error", () => {});
  session.on("close", () => {
    sessions.delete(session);
    const wasBound = session.bound;
    session.bound = false;
    for (const item of session.unacked) enqueue(session.systemId, item);
    session.unacked.clear();
    if (wasBound) pump(session.systemId);
  });
});

server.on("error", (e) => {
  process.stderr.write(String(e) + "\n");
});

server.listen(config.port || 0, "127.0.0.1", () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + "\n");
});

readline.createInterface({ input: process.stdin }).on("line", (line) => {
  let cmd;
  try {
    cmd = JSON.parse(line);
  } catch (e) {
    return;
  }
  if (cmd.cmd === "set") {
    Object.assign(config, cmd);
    delete config.cmd;
  } else if (cmd.cmd === "drop") {
    for (const s of sessions) s.destroy();
  } else if (cmd.cmd === "drop_after") {
    dropAfter = cmd.n;
  } else if (cmd.cmd === "mo" || cmd.cmd === "raw") {
    const item =
      cmd.cmd === "mo"
        ? {
            source_addr: cmd.from,
            destination_addr: cmd.to,
            esm_class: 0,
            data_coding: 8,
            short_message: Buffer.from(cmd.text, "utf16le").swap16(),
          }
        : {
            source_addr: cmd.from || "79000000000",
            destination_addr: cmd.to || "Test",
            esm_class: cmd.esm_class === undefined ? 4 : cmd.esm_class,
            data_coding: 0,
            short_message: Buffer.from(cmd.short_message || "", "latin1"),
          };
    if (cmd.receipted_message_id) item.receipted_message_id = cmd.receipted_message_id;
    enqueue(config.system_id, item);
  } else if (cmd.cmd === "stats") {
    const flush = () =>
      process.stdout.write(JSON.stringify({ stats: Object.assign({ id: cmd.id }, stats,
        { bound: [...sessions].filter((s) => s.bound).length }) }) + "\n");
    if (log) log.write("", flush);
    else flush();
  }
});
process.stdin.on("end", () => process.exit(0));
