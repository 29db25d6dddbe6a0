import { createFleetDatabase, type FleetDatabase } from '../../demo/fleet-database';

export { withClient } from '../../demo/fleet-database';

/**
 * The benches' database: the demo's IoTFlow schema (so the `iotflow` source is live, not down on
 * missing tables) with 2 000 devices, on DATABASE_URL's server or the local one.
 */
export function createIotflowDatabase(adminUrl?: string): Promise<FleetDatabase> {
  return createFleetDatabase({ adminUrl, namePrefix: 'iotflow_metrics_benchsuite_', devices: 2000, users: 200 });
}
