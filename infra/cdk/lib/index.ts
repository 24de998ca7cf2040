/** ocsf-firehose infrastructure: the Security Lake Firehose pipeline and the direct-path source. */
export * from './custom-source';
export * from './dashboard';
export * from './defaults';
export * from './direct-source';
export * from './key-access';
export * from './pipeline';
export * from './schema';
export * from './security-hub';
export * from './source';
export * from './suppressions';
export * from './template-size';
