// The API's users (an in-memory stand-in for the database), and the service that asks
// Warden before listing them.

import { Injectable } from '@nestjs/common';
import { WardenService } from 'warden-policy/nest';
import type { Principal } from 'warden-policy';

export interface User {
  id: string;
  email: string;
  password: string;
  role: 'USER' | 'ADMIN';
}

export const USERS: User[] = [
  { id: 'u1', email: 'user@lumira.test', password: 'user-password', role: 'USER' },
  { id: 'u2', email: 'other@lumira.test', password: 'other-password', role: 'USER' },
  { id: 'a1', email: 'admin@lumira.test', password: 'admin-password', role: 'ADMIN' },
];

@Injectable()
export class UsersService {
  constructor(private readonly warden: WardenService) {}

  /**
   * Every user, for an ADMIN: checked here, in the service, whatever route calls it
   * (the policy's `grant ADMIN: users:list`); a denial is Nest's ForbiddenException.
   */
  list(caller: Principal | null): Array<Pick<User, 'id' | 'email' | 'role'>> {
    this.warden.assert(caller, 'users:list', { type: 'user', id: '*' });
    return USERS.map(({ id, email, role }) => ({ id, email, role }));
  }
}
