import { randomUUID } from 'node:crypto';
import { nativeHashOf, partnerHashNames } from '../libs/trace-service/src/epcis/native-hashes';
const names = partnerHashNames(undefined);
const org = randomUUID(), loc = randomUUID();
const N = Number(process.env.N ?? 20000);
const links = Array.from({ length: N }, (_, i) => ({
  id: randomUUID(), seq: 2, biz_step: 'holding', disposition: 'recalled', event_time: new Date().toISOString(), event_time_offset: '+08:00', org_id: org,
  content: { orgId: org, locationId: loc, recallId: randomUUID(), level: 1, reason: 'benchmark', quantity: { value: 12, unit: 'kg' } },
  prev_hash: 'a'.repeat(64), hash: 'b'.repeat(64),
}));
(async () => {
  for (let r = 0; r < 4; r++) {
    const t = performance.now();
    let x = '';
    for (let i = 0; i < N; i++) x = await nativeHashOf(names, links[i], { gtin: '09506000134352', lot: `LOT-${i}`, attributes: {} });
    console.log(`nativeHashOf ${((performance.now() - t) * 1000 / N).toFixed(1)} µs`, x.slice(0, 30));
  }
})();
