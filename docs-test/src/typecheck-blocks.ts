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
 * Type-checks each written block (`writeBlocks`) on its own under `tsconfigPath`, as a reader's
 * project holding only that block would (one block's `declare global` does not help another), and
 * names each error by its Markdown file, line and column, not by the generated module.
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
  const host = cachingHost(parsed.options)
  const byBlock = new Map<DocBlock, string[]>()
  const other = parsed.errors.map((diagnostic) => format(diagnostic, undefined))
  let oldProgram: ts.Program | undefined
  for (const [path, block] of written) {
    const program = ts.createProgram({
      rootNames: [path],
      options: parsed.options,
      host,
      ...(oldProgram ? { oldProgram } : {}),
    })
    oldProgram = program
    for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
      const own = diagnostic.file && ts.sys.resolvePath(diagnostic.file.fileName) === path
      if (own) byBlock.set(block, [...(byBlock.get(block) ?? []), format(diagnostic, block)])
      else other.push(format(diagnostic, undefined))
    }
  }
  return { byBlock, other: [...new Set(other)] }
}

// Every block loads the same type files (lib, @types/node, openai, the packages): parse each once.
function cachingHost(options: ts.CompilerOptions): ts.CompilerHost {
  const host = ts.createCompilerHost(options)
  const parsed = new Map<string, ts.SourceFile | undefined>()
  const getSourceFile = host.getSourceFile
  host.getSourceFile = (fileName, languageVersion, ...rest) => {
    if (!parsed.has(fileName))
      parsed.set(fileName, getSourceFile.call(host, fileName, languageVersion, ...rest))
    return parsed.get(fileName)
  }
  return host
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
