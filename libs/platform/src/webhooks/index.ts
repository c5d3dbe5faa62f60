// Sending webhooks, shared by recall's subscriptions and EPCIS query subscriptions: which addresses may
// be targets, one pinned POST, and the HMAC signature of a body.
export * from './address';
export * from './post';
export * from './signature';
export * from './options';
