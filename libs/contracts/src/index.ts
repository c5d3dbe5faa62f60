export * from './topics';
export * from './events';
export * from './gen/trace/v1/common_pb';
export * from './gen/trace/v1/batch_pb';
export * from './gen/trace/v1/trace_event_pb';
export * from './gen/trace/v1/inspection_pb';
export * from './gen/trace/v1/certificate_pb';
export * from './gen/trace/v1/envelope_pb';
export { timestampFromDate, timestampDate } from '@bufbuild/protobuf/wkt';
