export * from './dto';
export * from './inspection.controller';
export * from './inspection.service';
export * from './migrations';
export * from './options';
