// Starts `warden lsp` for `.warden` files: diagnostics (check + lint) as you type,
// formatting, hover, completion, go to definition, references and rename come from
// the server.
'use strict';

const vscode = require('vscode');
const { LanguageClient, TransportKind } = require('vscode-languageclient/node');

/** @type {LanguageClient | undefined} */
let client;

/** @param {vscode.ExtensionContext} context */
function activate(context) {
  const command = vscode.workspace.getConfiguration('warden').get('path', 'warden');
  const server = { command, args: ['lsp'], transport: TransportKind.stdio };
  client = new LanguageClient(
    'warden',
    'Warden',
    { run: server, debug: server },
    { documentSelector: [{ scheme: 'file', language: 'warden' }, { scheme: 'untitled', language: 'warden' }] },
  );
  context.subscriptions.push(client);
  return client.start().catch((err) => {
    vscode.window.showErrorMessage(
      `Warden: could not start \`${command} lsp\` (${err.message}); set "warden.path" to the warden binary.`,
    );
  });
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
