/** Examples shown in /docs for the gateway's own routes (identity, locations, audit, scan), as `npm start` answered them. */
const ids = {
  farm: 'b3c27de8-68f6-4cdd-9852-66c8744bd467',
  location: 'a57ce6f7-29b8-45d4-9aff-a89a48350dd9',
};

export const TOKEN_EXAMPLE = {
  accessToken: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJvcmciOiJiM2MyN2RlOC02OGY2LTRjZGQtOTg1Mi02NmM4NzQ0YmQ0NjciLCJyb2xlIjoib3BlcmF0b3IifQ.sig',
  tokenType: 'Bearer',
  expiresIn: 3600,
};

export const ORGANISATION_EXAMPLE = { id: ids.farm, name: 'Green Hill Farm', kind: 'producer' };

export const CLIENT_EXAMPLE = { clientId: 'cli_0310ad574c26e10aaf515cc9', clientSecret: 'b1c5e0d2f7a94c3e8a6d0f1b2c3d4e5f6a7b8c9d0e1f2a3b', orgId: ids.farm, role: 'operator' };

export const LOCATION_EXAMPLE = {
  id: ids.location,
  orgId: ids.farm,
  name: 'Green Hill greenhouse 3',
  kind: 'farm',
  region: 'CN-37',
  address: '山东省寿光市 Shouguang, Shandong',
  gln: '6901234000017',
  createdAt: '2026-12-06T07:53:14.376Z',
};
