import { dirname } from 'node:path'
import ts from 'typescript'
import type { DocBlock } from './extract-blocks'

/** The type errors of one check, each as `README.md:12:5 - error TS2304: Cannot find name 'app'.` */
export interface BlockDiagnostics {
  /** Errors found in a block, by block. */
  byBlock: Map<DocBlock, string[]>
  /** Errors that belong to no block (the tsconfig, a missing type package). */
  other: string[]
}

/**
 * Type-checks the written blocks (`writeBlocks`) as one program under `tsconfigPath` and names
 * each error by its Markdown file, line and column, not by the generated module.
 *
 * @example
 * const { byBlock } = typecheckBlocks(writeBlocks(blocks, dir), 'docs-test/tsconfig.blocks.json')
 */
export function typecheckBlocks(
  written: ReadonlyMap<string, DocBlock>,
  tsconfigPath: string,
): BlockDiagnostics {
  const config = ts.readConfigFile(tsconfigPath, ts.sys.readFile)
  if (config.error) throw new Error(format(config.error, undefined))
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, dirname(tsconfigPath))
  const program = ts.createProgram({ rootNames: [...written.keys()], options: parsed.options })
  const byBlock = new Map<DocBlock, string[]>()
  const other = parsed.errors.map((diagnostic) => format(diagnostic, undefined))
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const block = diagnostic.file && written.get(ts.sys.resolvePath(diagnostic.file.fileName))
    if (!block) {
      other.push(format(diagnostic, undefined))
      continue
    }
    byBlock.set(block, [...(byBlock.get(block) ?? []), format(diagnostic, block)])
  }
  return { byBlock, other }
}

function format(diagnostic: ts.Diagnostic, block: DocBlock | undefined): string {
  const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')
  const kind = ts.DiagnosticCategory[diagnostic.category].toLowerCase()
  let where = diagnostic.file?.fileName ?? 'tsconfig'
  if (diagnostic.file && diagnostic.start !== undefined) {
    const { line, character } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start)
    where = block
      ? `${block.file}:${block.line + line}:${block.column + character}`
      : `${where}:${line + 1}:${character + 1}`
  }
  return `${where} - ${kind} TS${diagnostic.code}: ${message}`
}
