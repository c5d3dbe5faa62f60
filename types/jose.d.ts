declare module 'jose' {
  export * from 'jose/dist/types/index';
}
