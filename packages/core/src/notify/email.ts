/**
 * `notify.email`: a plain-text mail through an SMTP server with nodemailer, its subject the
 * notice's first line. The password comes from `password_file` (0600), the variable
 * BATT_NOTIFY_EMAIL_SMTP_PASSWORD, or `password` in a 0600 config file. nodemailer is loaded
 * only when a mail is sent.
 */
import type { Channel } from './channel.js';
import type { NotifyConfig } from '../config/notify-keys.js';
import { readSecretFile, SendError } from './send.js';

type EmailConfig = NonNullable<NotifyConfig['email']>;

/** nodemailer's failures that sending again cannot mend: a refused login, a 5xx answer. */
function permanent(error: Error & { code?: string; responseCode?: number }): boolean {
  return error.code === 'EAUTH' || (error.responseCode !== undefined && error.responseCode >= 500);
}

export function emailChannel(config: EmailConfig): Channel {
  const smtp = config.smtp!;
  return {
    name: 'email',
    async finished(notice, signal, ms) {
      const password = smtp.password ?? (smtp.password_file ? readSecretFile('notify.email.smtp.password_file', smtp.password_file) : undefined);
      const nodemailer = await import('nodemailer');
      const transport = nodemailer.createTransport({
        host: smtp.host,
        port: smtp.port ?? (smtp.secure ? 465 : 587),
        secure: smtp.secure ?? false,
        auth: smtp.user ? { user: smtp.user, pass: password } : undefined,
        // close() does not end a connection in progress: its own timers must end it in time.
        connectionTimeout: ms,
        greetingTimeout: ms,
        socketTimeout: ms,
      });
      const stop = (): void => transport.close();
      signal.addEventListener('abort', stop);
      try {
        await transport.sendMail({
          from: config.from,
          to: [...config.to!],
          subject: notice.text.split('\n')[0],
          text: notice.text,
          // Readable as it travels (and in a test's raw message), unlike base64.
          textEncoding: 'quoted-printable',
        });
      } catch (error) {
        throw new SendError((error as Error).message, permanent(error as Error));
      } finally {
        signal.removeEventListener('abort', stop);
        transport.close();
      }
    },
  };
}
