import { GS1_LINK_TYPES, gs1LinkTypeUri, type Gs1LinkType } from '@trace/gs1';

interface LinkTarget {
  href: string;
  title: string;
  type: string;
  hreflang?: string[];
}

/**
 * The links of one Digital Link as an RFC 9264 linkset
 * (`application/linkset+json`): relation types are the GS1 Web Vocabulary
 * URIs, targets are this resolver with a `linkType` selecting the view.
 */
export function linksetOf(anchor: string): { linkset: [Record<string, string | LinkTarget[]>] } {
  const to = (type: Gs1LinkType, mediaType: string, extra: Partial<LinkTarget> = {}): LinkTarget[] => [
    { href: `${anchor}?linkType=gs1:${type}`, title: GS1_LINK_TYPES[type], type: mediaType, ...extra },
  ];
  const pip = to('pip', 'text/html', { hreflang: ['zh-CN', 'en'] });
  return {
    linkset: [
      {
        anchor,
        [gs1LinkTypeUri('defaultLink')]: pip,
        [gs1LinkTypeUri('pip')]: pip,
        [gs1LinkTypeUri('recallStatus')]: to('recallStatus', 'application/json'),
        [gs1LinkTypeUri('certificationInfo')]: to('certificationInfo', 'application/json'),
        [gs1LinkTypeUri('traceability')]: to('traceability', 'application/json'),
      },
    ],
  };
}
