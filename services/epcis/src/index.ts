export * from './epcis.module';
export * from './xsd-validation';
