import { describe } from 'vitest';
import {
  createsKey,
  editsFromList,
  fillsSpendBar,
  refusesFieldByField,
  showsApiRefusal,
} from './dashboard/api-keys.ts';
import { startDashboard } from './dashboard/dashboard.ts';
import { disablesEnablesDeletes } from './dashboard/key-actions.ts';
import { managesLifecycle, showsKeyPage } from './dashboard/key-page.ts';
import { fitsPhone, servesApiReference } from './dashboard/layout.ts';
import { managesManagementKeys } from './dashboard/management-keys.ts';
import { signsIn, signsOut } from './dashboard/session.ts';

// One signed-in session for the whole file: each test starts where the one before it left the dashboard
// (the key `chat-app` made early is used to the end), so they are registered here, in this order.
describe('the dashboard in Chromium', () => {
  startDashboard();
  signsIn();
  refusesFieldByField();
  createsKey();
  fillsSpendBar();
  editsFromList();
  showsKeyPage();
  showsApiRefusal();
  managesLifecycle();
  disablesEnablesDeletes();
  managesManagementKeys();
  fitsPhone();
  servesApiReference();
  signsOut();
});
