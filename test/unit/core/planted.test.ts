import { describe, expect, it } from 'vitest';
import { containsPlanted, plantedIn } from '../../helpers/planted.js';

describe('looking for planted personal data', () => {
  it('finds a planted number as a number of its own, never inside another number', () => {
    const bundle = 'edgevox_store_write_duration_seconds_sum{operation="auth.createUser"} 0.00019407700000010662\n"time":1764860411123';
    expect(containsPlanted(bundle, '07700')).toBe(false);
    expect(containsPlanted(bundle, '4111')).toBe(false);
    expect(containsPlanted('{"msg":"e-mail listener","port":41113}', '4111')).toBe(false); // a port, by chance
    expect(containsPlanted('my number is 07700 900123.', '07700 900123')).toBe(true);
    expect(containsPlanted('"tel:+4412345"', '+4412345')).toBe(true);
    expect(containsPlanted('card 4111,', '4111')).toBe(true);
    expect(plantedIn('Priya called', ['Priya', 'jane.doe'])).toEqual(['Priya']);
    // a name is looked for as written: a hex hash holds "ada" by chance, never "Ada"
    expect(plantedIn('"customer_hash":"0bfbfe42912ada648fc35f540e7b4dc1"', ['Ada'])).toEqual([]);
  });
});
