// Lumira V2's API module: Warden in place of helmet, enableCors, ThrottlerModule, the
// JwtAuthGuard and the RolesGuard of the seed; policies/lumira.warden holds them all.

import crypto from 'node:crypto';
import path from 'node:path';
import { Body, Controller, Get, HttpCode, Module, Post, UnauthorizedException } from '@nestjs/common';
import { Principal, WardenModule } from 'warden-policy/nest';
import type { Principal as User } from 'warden-policy';
import { USERS, UsersService } from './users';

export const POLICY = process.env.WARDEN_POLICY ?? path.join(__dirname, '..', '..', '..', '..', 'policies', 'lumira.warden');

const b64url = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

/** `jwtService.sign(payload, { expiresIn: '1h' })` (HS256), as AuthService.login does. */
function sign(payload: Record<string, unknown>, secret: string): string {
  const now = Math.floor(Date.now() / 1000);
  const head = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url({ ...payload, iat: now, exp: now + 3600 })}`;
  return `${head}.${crypto.createHmac('sha256', secret).update(head).digest('base64url')}`;
}

@Controller()
export class AuthController {
  // The LoginDto checks (IsEmail, MinLength(8), no other fields) and the 5-per-60s limit
  // are the policy's, ahead of this handler.
  @Post('auth/login')
  @HttpCode(200)
  login(@Body() body: { email: string; password: string }) {
    const u = USERS.find((x) => x.email === body.email && x.password === body.password);
    if (!u) throw new UnauthorizedException('invalid credentials');
    const secret = process.env.JWT_SECRET ?? '';
    return { accessToken: sign({ sub: u.id, email: u.email, role: u.role }, secret) };
  }
}

@Controller()
export class ApiController {
  constructor(private readonly users: UsersService) {}

  /** The principal Warden verified from the bearer token. */
  @Get('me')
  me(@Principal() user: User) {
    return { user };
  }

  /** `@Roles(Role.ADMIN) @UseGuards(JwtAuthGuard, RolesGuard)` is the policy's route. */
  @Get('admin/users')
  adminUsers(@Principal() user: User) {
    return this.users.list(user);
  }

  /** No route rule: the service's own check decides (WardenService.assert). */
  @Get('users')
  list(@Principal() user: User | null) {
    return this.users.list(user);
  }

  @Get('health')
  health() {
    return { ok: true };
  }
}

@Module({
  imports: [
    WardenModule.forRoot({
      policy: POLICY,
      env: process.env.NODE_ENV ?? 'development',
      secrets: { JWT_SECRET: process.env.JWT_SECRET ?? '', NEXTAUTH_SECRET: process.env.NEXTAUTH_SECRET ?? '' },
      config: process.env.CORS_ORIGINS ? { CORS_ORIGINS: process.env.CORS_ORIGINS } : {},
      // What LoginDto's validation reads: the field names, the email, the password's length.
      input: (req) => {
        const body = (req as { body?: unknown }).body;
        if (!body || typeof body !== 'object' || Array.isArray(body)) return null;
        const b = body as Record<string, unknown>;
        return {
          fields: Object.keys(b),
          email: b.email,
          password_length: typeof b.password === 'string' ? b.password.length : null,
        };
      },
    }),
  ],
  controllers: [AuthController, ApiController],
  providers: [UsersService],
})
export class AppModule {}
