import { startDistributed, type DistributedDeployment } from '../support/distributed';
import { recallScenario } from '../support/recall-scenario';

/**
 * "Done means" scenario A (tests/support/recall-scenario.ts) in distributed
 * mode: agri, food, lineage and recall each their own process, Kafka between
 * them, the gateway in front (scans included).
 */
describe('recall scenario over Kafka (agri, food, lineage, recall and gateway processes)', () => {
  let d: DistributedDeployment | undefined;
  const scenario = recallScenario(() => ({ url: d!.gateway.url, as: (orgId, role) => d!.as(orgId, role), eventuallyMs: 60_000 }), 'E2E-SCN');

  afterAll(async () => {
    await d?.stop();
  });

  it('failed sample → case → level-1 recall of five batches across two processors and three retailers → close', async () => {
    d = await startDistributed(['agri', 'food', 'lineage', 'recall'], 'e2erc');
    await scenario.buildSupplyChain();
    await scenario.failInspection();
    await scenario.recallFromCase();
    await scenario.allRecalled();
    await scenario.acknowledgeAndClose();
  });
});
