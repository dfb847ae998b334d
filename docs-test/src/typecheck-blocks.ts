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
 * Type-checks each written block (`writeBlocks`) under `tsconfigPath`, as a reader's project holding
 * only that block would, and names each error by its Markdown file, line and column, not by the
 * generated module.
 *
 * The blocks are checked as one TypeScript program, so the types they share (lib, @types/node, openai,
 * the packages) are loaded and checked once. Each block is its own module (`moduleDetection: force`), so
 * its names stay its own; a block that can reach beyond itself (`declare global`, `declare module`) is
 * checked in a program of its own, so one block's augmentation never helps another.
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
  const shared: string[] = []
  const programs = [shared]
  for (const [path, block] of written) {
    if (augments(block)) programs.push([path])
    else shared.push(path)
  }
  let oldProgram: ts.Program | undefined
  for (const rootNames of programs.filter((roots) => roots.length > 0)) {
    const program = ts.createProgram({
      rootNames,
      options: parsed.options,
      host,
      ...(oldProgram ? { oldProgram } : {}),
    })
    oldProgram = program
    for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
      const path = diagnostic.file && ts.sys.resolvePath(diagnostic.file.fileName)
      const block = path && rootNames.includes(path) ? written.get(path) : undefined
      if (block) byBlock.set(block, [...(byBlock.get(block) ?? []), format(diagnostic, block)])
      else other.push(format(diagnostic, undefined))
    }
  }
  return { byBlock, other: [...new Set(other)] }
}

// A block that declares into the global scope or into another module changes what other blocks see.
function augments(block: DocBlock): boolean {
  return /\bdeclare\s+(global\b|module\s+['"])/.test(block.code)
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
