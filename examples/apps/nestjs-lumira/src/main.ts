// Bootstrap the API; a policy that does not load fails it (every diagnostic printed).

import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
  await app.listen(Number(process.env.PORT ?? 4000), '127.0.0.1');
  const addr = app.getHttpServer().address();
  console.log(`listening on http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : ''}`);
}

void bootstrap();
