import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadGlueSchema, pregeneratedSchema, SCHEMAS_DIR, tableColumnsEnvironment } from '../lib';

test('every pre-generated schema loads, with the columns the pipeline relies on', () => {
  const versions = fs.readdirSync(SCHEMAS_DIR).filter((v) => fs.statSync(path.join(SCHEMAS_DIR, v)).isDirectory());
  expect(versions.sort()).toEqual(['1.1.0', '1.3.0']);
  for (const version of versions) {
    for (const file of fs.readdirSync(path.join(SCHEMAS_DIR, version))) {
      const schema = loadGlueSchema(path.join(SCHEMAS_DIR, version, file));
      expect(file.startsWith(`${schema.class_uid}-`)).toBe(true);
      expect(schema.ocsf_version).toBe(version);
      expect(schema.columns.find((c) => c.Name === 'time')!.Type).toBe('bigint');
      expect(schema.columns.find((c) => c.Name === 'time_dt')!.Type).toBe('timestamp');
      expect(schema.columns.find((c) => c.Name === 'unmapped')!.Type).toBe('map<string,string>');
      expect(schema.leaf_columns).toBeLessThanOrEqual(400);
    }
  }
});

test('a missing class says how to generate it; a malformed file is refused', () => {
  expect(() => pregeneratedSchema(1001, '1.1.0')).toThrow(/ocsf-firehose glue-schema --class-uid 1001/);
  const bad = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'schema-')), 'bad.json');
  fs.writeFileSync(bad, JSON.stringify({ class_uid: 1, columns: [{ Name: 'time', Type: 'bigint' }] }));
  expect(() => loadGlueSchema(bad)).toThrow(/no `class_uid` column/);
});

test('extra columns reach the Lambda as OCSF_TABLE_COLUMNS, within the environment limit', () => {
  const schema = pregeneratedSchema(3002, '1.1.0');
  expect(tableColumnsEnvironment(schema)).toEqual({});
  const extra = { ...schema, extra_columns: ['actor.process.cmd_line', 'user.email_addr'] };
  expect(tableColumnsEnvironment(extra)).toEqual({ OCSF_TABLE_COLUMNS: 'actor.process.cmd_line,user.email_addr' });
  const huge = { ...schema, extra_columns: Array.from({ length: 400 }, (_, i) => `user.path_${i}`) };
  expect(() => tableColumnsEnvironment(huge)).toThrow(/at most 3000/);
});
