/** ocsf-firehose infrastructure: the Security Lake Firehose pipeline construct. */
export * from './custom-source';
export * from './defaults';
export * from './pipeline';
export * from './schema';
export * from './source';
export * from './suppressions';
