#!/usr/bin/env node
/**
 * The composition root: the only place that builds the program, wires commands to services
 * and turns a thrown error or a CommandResult into an exit code.
 */
import { Command, CommanderError } from 'commander';
import { describeError, UdBridgeError } from './errors.js';
import { render, ExitCode, type CommandResult } from './cli/result.js';
import { generateCommand } from './cli/generate.js';
import { simCommand } from './cli/sim.js';

type Action<O> = (options: O) => Promise<CommandResult>;

/** Wraps a command's action so that its result is rendered and its error becomes an exit code. */
export function runAction<O>(action: Action<O>): (options: O) => Promise<void> {
  return async (options: O) => {
    try {
      process.exitCode = render(await action(options));
    } catch (e) {
      const { message } = describeError(e);
      process.stderr.write(`ud-bridge: ${message}\n`);
      process.exitCode = e instanceof UdBridgeError ? e.exitCode : ExitCode.couldNotRun;
    }
  };
}

export function buildProgram(): Command {
  const program = new Command('ud-bridge')
    .description('Keeps Visma Connect in step with Visma User Directory: tenants, accounts, applications and roles.')
    .version(process.env.npm_package_version ?? '0.1.0', '-V, --version')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
      outputError: (s, write) => write(`ud-bridge: ${s.replace(/^error: /, '').trim()}\n`),
    });
  program.addCommand(generateCommand(runAction));
  program.addCommand(simCommand(runAction));
  return program;
}

function forEachCommand(command: Command, visit: (c: Command) => void): void {
  for (const sub of command.commands) {
    visit(sub);
    forEachCommand(sub, visit);
  }
}

async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  forEachCommand(program, (c) => {
    c.exitOverride().configureOutput(program.configureOutput()).showSuggestionAfterError(true);
  });
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      const benign = e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help';
      process.exitCode = benign ? 0 : ExitCode.usage;
      return;
    }
    throw e;
  }
}

await main(process.argv);
