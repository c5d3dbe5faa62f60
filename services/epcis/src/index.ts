export * from './epcis.module';
