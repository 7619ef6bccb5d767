/**
 * Loads the per-org CRM mapping file (`DUGOUT_CRM_MAPPINGS`) once at boot. A bad file stops the
 * collector with the file name and every broken JSON path, as a bad variable does.
 */
import fs from 'node:fs/promises'
import { CrmMappings } from '../../schemas/collector-config.schema.ts'
import { formatPath } from '../../schemas/event-validation.ts'

export class CrmMappingsError extends Error {
  readonly code = 'CRM_MAPPINGS_INVALID'
  constructor(
    readonly file: string,
    readonly issues: string[],
  ) {
    super(`invalid CRM mapping file ${file} (DUGOUT_CRM_MAPPINGS):\n${issues.map((i) => `  - ${i}`).join('\n')}`)
    this.name = 'CrmMappingsError'
  }
}

/** No mapping: every webhook delivery is dead-lettered with rule `no_mapping`. */
export const NO_MAPPINGS: CrmMappings = { orgs: {} }

/** Parses the text of a mapping file; `file` names it in errors. */
export function parseCrmMappings(text: string, file: string): CrmMappings {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new CrmMappingsError(file, [`is not valid JSON: ${(error as Error).message}`])
  }
  const parsed = CrmMappings.safeParse(value)
  if (!parsed.success) {
    throw new CrmMappingsError(
      file,
      parsed.error.issues.map((issue) => {
        // A bad record key (an org id, a Salesforce id) says why only in its nested issues.
        const why =
          issue.code === 'invalid_key'
            ? `is not a valid key: ${issue.issues.map((i) => i.message).join('; ')}`
            : issue.message
        return `${formatPath(issue.path)}: ${why}`
      }),
    )
  }
  return parsed.data
}

/** Reads and parses the mapping file; no path means no mappings. */
export async function loadCrmMappings(file: string | undefined): Promise<CrmMappings> {
  if (file === undefined) return NO_MAPPINGS
  let text: string
  try {
    text = await fs.readFile(file, 'utf8')
  } catch (error) {
    throw new CrmMappingsError(file, [`cannot be read: ${(error as Error).message}`])
  }
  return parseCrmMappings(text, file)
}
