import { decodeGlobalID } from '@pothos/plugin-relay';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Never matches a row: lets a malformed id find nothing instead of failing the query. */
const NO_ROW = '00000000-0000-0000-0000-000000000000';

export const isUuid = (id: string) => UUID.test(id);

/** The database id behind a global id of the given type, or a raw uuid; null when neither. */
export function rowId(typename: string, id: string): string | null {
  if (isUuid(id)) return id.toLowerCase();
  try {
    const decoded = decodeGlobalID(id);
    return decoded.typename === typename && isUuid(decoded.id) ? decoded.id.toLowerCase() : null;
  } catch {
    return null;
  }
}

export const uuidOrNoRow = (id: string) => (isUuid(id) ? id : NO_ROW);
