# free_port: prints a port free on 127.0.0.1 for both TCP and UDP (sourced by the bench scripts).

free_port() {
  node -e '
    const net = require("node:net"), dgram = require("node:dgram");
    (async () => {
      for (let i = 0; i < 50; i++) {
        const port = await new Promise((ok, ko) => { const s = net.createServer(); s.once("error", ko);
          s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => ok(p)); }); });
        const udp = await new Promise((ok) => { const s = dgram.createSocket("udp4"); s.once("error", () => ok(false));
          s.bind(port, "127.0.0.1", () => s.close(() => ok(true))); });
        if (udp) { console.log(port); return; }
      }
      process.exit(1);
    })();'
}
