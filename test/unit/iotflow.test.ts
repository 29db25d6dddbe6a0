import { iotflowSamples, missingTablesMessage } from '../../streams/iotflow';

describe('iotflow', () => {
  it('maps the query row to the four samples of the source', () => {
    expect(iotflowSamples({ devices_total: 5, devices_active: 3, devices_online: 2, users_total: 4 })).toEqual([
      { name: 'iotflow_devices_total', value: 5 },
      { name: 'iotflow_devices_active', value: 3 },
      { name: 'iotflow_devices_online', value: 2 },
      { name: 'iotflow_users_total', value: 4 },
    ]);
    expect(() => iotflowSamples({ devices_total: 5, devices_active: 3, devices_online: null, users_total: 4 })).toThrow(
      'IoTFlow query column devices_online is not a number (null)',
    );
  });

  it('names the missing tables and the database', () => {
    expect(missingTablesMessage(['users'], 'iot')).toBe('table "users" does not exist in database "iot"');
    expect(missingTablesMessage(['devices', 'users'], 'iot')).toBe('tables "devices", "users" do not exist in database "iot"');
  });
});
