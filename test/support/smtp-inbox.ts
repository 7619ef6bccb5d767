/**
 * A real SMTP server in the test process (smtp-server) that keeps the Message-ID of each message
 * it accepts. `silentFirst`: that many DATA commands are read whole and never answered (no 250,
 * so the server took nothing on), as a server that goes silent after DATA.
 */
import type { AddressInfo } from 'node:net'
import { SMTPServer } from 'smtp-server'

export interface SmtpInbox {
  /** `smtp://127.0.0.1:<port>` */
  url: string
  /** Message-IDs accepted (answered 250), in order. */
  accepted: string[]
  /** DATA commands read, answered or not. */
  dataReceived: () => number
  close(): Promise<void>
}

export async function startSmtpInbox(options: { silentFirst?: number } = {}): Promise<SmtpInbox> {
  const accepted: string[] = []
  let received = 0
  const server = new SMTPServer({
    authOptional: true,
    // nodemailer upgrades to TLS when offered; the test server has no certificate worth trusting.
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (chunk: Buffer) => chunks.push(chunk))
      stream.on('end', () => {
        if (received++ < (options.silentFirst ?? 0)) return
        accepted.push(/^Message-ID: (.+)$/im.exec(Buffer.concat(chunks).toString())![1]!.trim())
        callback()
      })
    },
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`,
    accepted,
    dataReceived: () => received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
