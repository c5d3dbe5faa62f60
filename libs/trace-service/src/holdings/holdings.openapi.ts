import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** OpenAPI shapes of a batch as GET /v1/{domain}/batches/{id} answers it (see use-cases/get-batch.ts). */
export class QuantityViewDoc {
  @ApiProperty({ example: 1200 })
  value: number;

  @ApiProperty({ example: 'kg' })
  unit: string;
}

export class HoldingDoc {
  @ApiProperty({ description: 'The organisation holding part of the batch' })
  orgId: string;

  @ApiProperty({ example: 500, description: 'Received and still held, in the batch unit' })
  quantity: number;

  @ApiProperty({ example: 0, description: 'Shipped to the organisation and not received yet (counts with the receiver from the moment it is sent)' })
  inTransit: number;
}

export class BatchDoc {
  @ApiProperty() id: string;
  @ApiProperty({ enum: ['agri', 'food', 'drug', 'material', 'goods'] }) domain: string;
  @ApiProperty({ example: '09506000134352' }) gtin: string;
  @ApiProperty({ example: 'LOT-2026-001' }) lot: string;
  @ApiProperty({ type: QuantityViewDoc, description: 'As produced' }) quantity: QuantityViewDoc;
  @ApiProperty({ type: QuantityViewDoc, description: 'What is left of it in the supply chain: held and in transit, all holders together' })
  remaining: QuantityViewDoc;
  @ApiProperty({ type: QuantityViewDoc, description: 'As produced (same as quantity; kept for earlier clients)' }) initialQuantity: QuantityViewDoc;
  @ApiProperty({ type: [HoldingDoc], description: 'Who holds how much: every holder for the owner, inspectors and regulators; another operator sees its own part only' })
  holdings: HoldingDoc[];
  @ApiProperty({ enum: ['active', 'held', 'recalled', 'destroyed', 'dispensed'] }) status: string;
  @ApiProperty() ownerOrgId: string;
  @ApiProperty({ description: 'The organisation that last received it (the producer until then); holdings tell who holds what' }) holderOrgId: string;
  @ApiPropertyOptional({ nullable: true, type: String, description: 'An organisation something is in transit to, if any' }) inTransitTo: string | null;
  @ApiProperty() locationId: string;
  @ApiProperty({ example: '2026-11-20T08:00:00+08:00' }) producedAt: string;
  @ApiPropertyOptional({ nullable: true, type: String }) expiresAt: string | null;
  @ApiProperty({ enum: ['lot', 'serial'], description: 'serial: a serialised item (captured through EPCIS); its `lot` field holds the serial. Lot "2017" and serial "2017" of one GTIN are two batches' }) itemKind: string;
  @ApiProperty({ example: '/01/09506000134352/10/LOT-2026-001', description: '/10/{lot} for a batch, /21/{serial} for a serialised item' }) digitalLink: string;
  @ApiProperty() chainLength: number;
  @ApiProperty() chainHead: string;
}
