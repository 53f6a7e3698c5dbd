/**
 * A pruned backup's copies go with it: each object is deleted from its storage and its row
 * forgotten, one by one. A delete that fails stops the prune, which stays open in the catalog, so
 * the next prune (or backup) finishes the job: no copy is forgotten while its object remains.
 */
import type { CatalogDb } from '../catalog/db.js';
import { copiesOf, dropCopy } from '../catalog/copies.js';
import type { BattConfig } from '../config/load.js';
import { BattError, describeError } from '../errors/errors.js';
import { copierOf } from './storages.js';

export async function removeCopies(db: CatalogDb, config: BattConfig | undefined, items: readonly { id: number; service: string }[]): Promise<number> {
  const all = copiesOf(
    db,
    items.map((i) => i.id),
  );
  let removed = 0;
  for (const item of items) {
    const copies = all.get(item.id) ?? [];
    if (copies.length === 0) continue;
    for (const copy of copies) {
      const copier = await copierOf(config, item.service, copy);
      if (!copier) {
        throw new BattError('CONFIG', `a pruned backup has a copy in the storage "${copy.storage}", which the configuration no longer names`, {
          hint: `put it back under storage: so prune can delete ${copy.key} there, then run prune again`,
        });
      }
      try {
        await copier.storage.delete(copy.key);
      } catch (error) {
        throw new BattError('IO', `cannot delete ${copy.key} from ${copy.storage}: ${describeError(error)}`, { hint: 'the prune stays open; the next prune finishes it' });
      }
      dropCopy(db, copy.id);
      removed++;
    }
  }
  return removed;
}
