// The Directory contract lives in libs/contracts (directory.ts); re-exported for the callers that import it from here.
export {
  DIRECTORY,
  LOCATION_KINDS,
  ORG_KINDS,
  type Directory,
  type LocationInfo,
  type LocationKind,
  type OrganisationInfo,
  type OrgKind,
} from '@trace/contracts';
